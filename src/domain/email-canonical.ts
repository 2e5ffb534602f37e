/**
 * Characters no email address may hold (SPEC §7): every control, format (zero-width, soft hyphen,
 * bidi controls), surrogate, private-use or unassigned code point, and every separator — after
 * trimming, white space inside an address only ever serves to make one mailbox look like two.
 */
export const INVISIBLE_IN_ADDRESS = /[\p{C}\p{Z}]/u;

/**
 * The mailbox an address reaches, as one account per mailbox compares it (SPEC §7): Unicode NFKC
 * (fullwidth and compatibility forms, NFD vs NFC), case-folded (upper then lower, so `ß` and `SS`,
 * `ς` and `Σ` meet), surrounding white space trimmed, and a `+tag` of the local part dropped.
 */
export function canonicalEmail(address: string): string {
  const folded = address.trim().normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  const at = folded.lastIndexOf('@');
  if (at < 0) return folded;
  let local = folded.slice(0, at);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  return `${local}@${folded.slice(at + 1)}`;
}
