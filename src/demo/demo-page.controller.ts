import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function asset(name: string): Buffer {
  return readFileSync(join(__dirname, 'public', name));
}

/** The demo inbox page, its script and the icon a browser asks for: files, not API. */
@ApiExcludeController()
@Controller()
export class DemoPageController {
  // Read once: they change only with a new build. Strings, which Nest sends as they are.
  private readonly page = asset('index.html').toString('utf8');
  private readonly script = asset('inbox.js').toString('utf8');
  private readonly icon = asset('favicon.ico');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  index(): string {
    return this.page;
  }

  @Get('demo/inbox.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  inbox(): string {
    return this.script;
  }

  @Get('favicon.ico')
  @Header('Content-Type', 'image/x-icon')
  @Header('Cache-Control', 'public, max-age=86400')
  favicon(): StreamableFile {
    return new StreamableFile(this.icon);
  }
}
