import { notificationPayloads } from './key-invalidation.service';

describe('notificationPayloads', () => {
  it('sends nothing for no tags and one array for a few', () => {
    expect(notificationPayloads([])).toEqual([]);
    expect(notificationPayloads(['key:a', 'instance:b'])).toEqual(['["key:a","instance:b"]']);
  });

  it('splits 1,000 key tags into JSON arrays each under the 8000-byte NOTIFY limit, losing none', () => {
    const tags = Array.from({ length: 1000 }, (_, i) => `key:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const payloads = notificationPayloads(tags);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8000);
    expect(payloads.flatMap((p) => JSON.parse(p))).toEqual(tags);
  });
});
