/**
 * Defaults shared by the configuration (config/) and the iks-register plugin mounted on its
 * own, so the two cannot drift apart.
 */

/**
 * Stored registrations a name may have by default, per active key it may have: room to
 * rotate and revoke keys while expired and revoked ones wait out the retention period.
 */
export const REGISTRATIONS_PER_ACTIVE_KEY = 4;
