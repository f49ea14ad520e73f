/**
 * `npm run vapid`: generates a VAPID key pair and prints the variables to set for the router and
 * the workers (same values on both). Nothing is written anywhere.
 */
import { generateVapidKeys } from '../tasks/vapid.ts';

const { publicKey, privateKey } = generateVapidKeys();
process.stdout.write(
  [
    '# Set these for the router and every worker (keep the private key secret):',
    `VAPID_PUBLIC_KEY=${publicKey}`,
    `VAPID_PRIVATE_KEY=${privateKey}`,
    '# and a contact for push services, e.g. VAPID_SUBJECT=mailto:ops@example.com',
    '',
  ].join('\n'),
);
