import { ApiProperty } from '@nestjs/swagger';

/** Nest's error shape, which every error response of the service has (the contract's "Errors"). */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'One reason, or one per invalid field for validation errors',
    example: ['ids must be an array'],
  })
  message!: string | string[];

  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase' })
  error!: string;
}
