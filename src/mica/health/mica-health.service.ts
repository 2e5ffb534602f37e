import { Injectable } from '@nestjs/common';
import { RegisterSummary, RegisterSummaryService } from '../register/register-summary.service';
import type { MicaHealthDto } from './mica-health.dto';

/** What the MiCA health route reports about the register data. */
@Injectable()
export class MicaHealthService {
  constructor(private readonly summary: RegisterSummaryService) {}

  /** Records served and the last fully successful sync, as the register import recorded them. */
  registerSummary(): Promise<RegisterSummary> {
    return this.summary.read();
  }

  async report(): Promise<MicaHealthDto> {
    return { status: 'ok', ...(await this.registerSummary()), apiVersion: 'v1' };
  }
}
