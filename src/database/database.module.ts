import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { OpenDatabase } from './database';
import { Transactions } from './transactions';

export const OPEN_DATABASE = Symbol('OPEN_DATABASE');

class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(OPEN_DATABASE) private readonly database: OpenDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** Hands the already opened and migrated DataSource to TypeORM's Nest integration, and the one owner of transactions. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(database: OpenDatabase): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => database.dataSource.options,
          dataSourceFactory: () => Promise.resolve(database.dataSource),
        }),
      ],
      providers: [{ provide: OPEN_DATABASE, useValue: database }, DatabaseLifecycle, Transactions],
      exports: [OPEN_DATABASE, Transactions],
    };
  }
}
