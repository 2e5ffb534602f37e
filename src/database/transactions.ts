import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * The one owner of transactions. A service opens one with `run`; every repository call made while
 * it runs (however deep, however many repositories) uses that transaction's connection through
 * `manager`, so no service lends an EntityManager to another through its parameters. A `run` inside
 * a `run` joins the outer transaction: the outermost decides commit or rollback.
 */
@Injectable()
export class Transactions {
  private readonly current = new AsyncLocalStorage<EntityManager>();
  private open = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.current.getStore()) return work();
    this.open++;
    return this.dataSource
      .transaction((manager) => this.current.run(manager, work))
      .finally(() => {
        // On Node 20 an enabled AsyncLocalStorage runs a hook on every promise of the process, the key
        // checks' too (about 3% of a cached check). Disabled while no transaction is open; run enables it again.
        if (--this.open === 0) this.current.disable();
      });
  }

  /** The running transaction's manager, or the pool's (one statement, autocommit) outside one. */
  get manager(): EntityManager {
    return this.current.getStore() ?? this.dataSource.manager;
  }

  get active(): boolean {
    return this.current.getStore() !== undefined;
  }
}
