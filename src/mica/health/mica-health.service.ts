import { Injectable } from '@nestjs/common';
import { RegisterSummary, RegisterSummaryService } from '../register/register-summary';

/** What the MiCA health route reports about the register data. */
@Injectable()
export class MicaHealthService {
  constructor(private readonly summary: RegisterSummaryService) {}

  /** Records served and the last fully successful sync, as the register import recorded them. */
  registerSummary(): Promise<RegisterSummary> {
    return this.summary.read();
  }
}
