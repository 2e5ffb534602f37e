import { SetMetadata } from '@nestjs/common';

export const BRAKE = 'trusset:key-management-brake';

/**
 * Marks the brakes an owner pulls when a credential leaks (revoke, pause, management-token rotation).
 * They are never refused by the key-management limit (SPEC §5), or whoever holds the leaked
 * credential could spend the allowance and block its own revocation.
 */
export const Brake = () => SetMetadata(BRAKE, true);
