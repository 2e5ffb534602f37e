import { DataSource, EntityManager } from 'typeorm';
import { Transactions } from './transactions';

/** A DataSource whose transaction hands its callback a manager of its own and counts commits and rollbacks. */
function fakeDataSource() {
  const outside = { name: 'pool' } as unknown as EntityManager;
  const state = { commits: 0, rollbacks: 0 };
  const dataSource = {
    manager: outside,
    async transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
      const manager = { name: `tx${state.commits + state.rollbacks}` } as unknown as EntityManager;
      try {
        const result = await work(manager);
        state.commits++;
        return result;
      } catch (e) {
        state.rollbacks++;
        throw e;
      }
    },
  } as unknown as DataSource;
  return { dataSource, outside, state };
}

describe('Transactions', () => {
  it('hands every call inside run the transaction manager, however deep, and the pool outside', async () => {
    const { dataSource, outside } = fakeDataSource();
    const tx = new Transactions(dataSource);
    expect(tx.manager).toBe(outside);
    const seen = await tx.run(async () => {
      const first = tx.manager;
      await new Promise((r) => setImmediate(r));
      return [first, tx.manager, tx.active];
    });
    expect(seen[0]).not.toBe(outside);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(true);
    expect(tx.manager).toBe(outside);
    expect(tx.active).toBe(false);
  });

  it('joins a nested run to the outer transaction: one commit', async () => {
    const { dataSource, state } = fakeDataSource();
    const tx = new Transactions(dataSource);
    await tx.run(async () => {
      const outer = tx.manager;
      await tx.run(() => Promise.resolve(expect(tx.manager).toBe(outer)));
    });
    expect(state).toEqual({ commits: 1, rollbacks: 0 });
  });

  it('keeps concurrent transactions apart, also once one of them has ended', async () => {
    const { dataSource } = fakeDataSource();
    const tx = new Transactions(dataSource);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const long = tx.run(async () => {
      const mine = tx.manager;
      await held;
      return tx.manager === mine;
    });
    await tx.run(() => Promise.resolve());
    release();
    expect(await long).toBe(true);
  });

  it('rolls back when the work throws, and is usable again after', async () => {
    const { dataSource, state, outside } = fakeDataSource();
    const tx = new Transactions(dataSource);
    await expect(tx.run(async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(state.rollbacks).toBe(1);
    expect(tx.manager).toBe(outside);
    await tx.run(() => Promise.resolve(expect(tx.manager).not.toBe(outside)));
  });
});
