import { BadRequestException, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ExportResult, ReportExportsService } from './report-exports.service';

const REPORT_NAME = /^[\w-]{1,64}$/;

@Controller('reports')
export class ReportExportsController {
  constructor(private readonly exports: ReportExportsService) {}

  @Post(':name/export')
  @HttpCode(200)
  export(@Param('name') name: string): Promise<ExportResult> {
    if (!REPORT_NAME.test(name)) throw new BadRequestException('report name: expected 1 to 64 letters, digits, "-" or "_"');
    return this.exports.export(name);
  }
}
