import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { AuthenticatedRequest } from './jwt-auth.guard';

/** Runs after `JwtAuthGuard`: only staff users pass. */
@Injectable()
export class StaffGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!user.isStaff) throw new ForbiddenException('staff only');
    return true;
  }
}
