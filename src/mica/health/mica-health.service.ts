import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { readRegisterSummary } from '../register/register-summary';

export interface RegisterSummary {
  totalIssuers: number;
  lastSync: string | null;
}

/** What the MiCA health route reports about the register data. */
@Injectable()
export class MicaHealthService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records served and the last fully successful sync, as the register import recorded them. */
  registerSummary(): Promise<RegisterSummary> {
    return readRegisterSummary(this.dataSource);
  }
}
