import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addToIndex, migrationNameProblem, migrationSource, nextTimestamp, timestampOf } from './migration-create';

describe('migrationNameProblem', () => {
  it.each(['AddKeyRestrictions', 'CreateWebhooks', 'IndexUnownedAuditEvents', 'AddContainmentAndAccountStatus', 'DropV1Tokens'])(
    'accepts %s',
    (name) => {
      expect(migrationNameProblem(name)).toBeUndefined();
    },
  );

  it('accepts every name the migrations folder already holds', () => {
    const names = readFileSync(join(__dirname, '../../migrations/index.ts'), 'utf8').match(/from '\.\/\d{13}-([A-Za-z0-9]+)'/g)!;
    expect(names.length).toBeGreaterThan(10);
    for (const line of names) expect(migrationNameProblem(/-([A-Za-z0-9]+)'$/.exec(line)![1])).toBeUndefined();
  });

  it.each([
    ['KeyRestrictions', 'does not start with a verb'],
    ['addKeyRestrictions', 'is not PascalCase'],
    ['Add', 'names no noun'],
    ['Add_Key', 'is not PascalCase'],
    ['Add-Key', 'is not PascalCase'],
    ['AddKey.ts', 'is not PascalCase'],
    ['1AddKey', 'is not PascalCase'],
    ['', 'is not PascalCase'],
    ['Addkeys', 'does not start with a verb'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(migrationNameProblem(name)).toContain(reason);
  });
});

describe('nextTimestamp', () => {
  it('is now when every migration is older', () => {
    expect(nextTimestamp([1_700_000_000_000], 1_800_000_000_000)).toBe(1_800_000_000_000);
  });

  it('comes after a migration dated ahead of the clock', () => {
    expect(nextTimestamp([1_796_400_000_000, 1_796_000_000_000], 1_796_100_000_000)).toBe(1_796_400_000_001);
  });
});

describe('timestampOf', () => {
  it('reads a migration file name and ignores any other file', () => {
    expect(timestampOf('1796000000001-IndexUnownedAuditEvents.ts')).toBe(1_796_000_000_001);
    expect(timestampOf('index.ts')).toBeNull();
  });
});

describe('the new migration and its line in index.ts', () => {
  const index = readFileSync(join(__dirname, '../../migrations/index.ts'), 'utf8');

  it('imports it after the last import and lists it last', () => {
    const next = addToIndex(index, 'AddThing', 1_796_500_000_000);
    const lines = next.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    expect(imports.at(-1)).toBe("import { AddThing1796500000000 } from './1796500000000-AddThing';");
    expect(lines[lines.indexOf('];') - 1]).toBe('  AddThing1796500000000,');
    expect(
      next.replace("import { AddThing1796500000000 } from './1796500000000-AddThing';\n", '').replace('  AddThing1796500000000,\n', ''),
    ).toBe(index);
  });

  it('writes a class named as TypeORM records it, whose steps fail until written', () => {
    const source = migrationSource('AddThing', 1_796_500_000_000);
    expect(source).toContain('export class AddThing1796500000000 implements MigrationInterface');
    expect(source).toContain("name = 'AddThing1796500000000';");
    expect(source.match(/throw new Error\(/g)).toHaveLength(2);
  });
});
