import type { FieldIssue } from '../platform/errors';
import { hostProblem, resolvedHostProblem, type Resolver } from './addresses';
import type { Channel } from './model';

/**
 * Target validation per channel (pure). Email: one plain address. SMS:
 * E.164. Webhook: an absolute https URL without credentials; plain http
 * only in local mode and only to a loopback host (127.0.0.0/8, localhost,
 * ::1). Outside local mode the host must be public even over https: an
 * address literal must be public unicast and `localhost` is refused here
 * (addresses.ts), and a name must resolve only to public addresses
 * (webhookTargetProblem, at subscribe time, and the sender's guarded lookup
 * at every delivery). Local mode keeps https to any host and plain http to
 * loopback, so the local runtime and the tests can post to a receiver on
 * this machine.
 */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
};

export const webhookUrlProblem = (target: string, local: boolean): string | undefined => {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') {
    if (local) return undefined;
    const problem = hostProblem(url.hostname);
    return problem ? `must point at a public host: ${problem}` : undefined;
  }
  if (url.protocol === 'http:') {
    if (!local) return 'must be https';
    return isLoopbackHost(url.hostname) ? undefined : 'must be https (plain http only to a loopback host, in local mode)';
  }
  return 'must be an https URL';
};

export const targetProblem = (channel: Channel, target: string, local: boolean): string | undefined => {
  switch (channel) {
    case 'email':
      return target.length <= 254 && EMAIL.test(target) ? undefined : 'must be an email address';
    case 'sms':
      return E164.test(target) ? undefined : 'must be a phone number in E.164 format, e.g. +14155550123';
    case 'webhook':
      return webhookUrlProblem(target, local);
  }
};

export const targetIssues = (channel: Channel, target: string, local: boolean): FieldIssue[] => {
  const problem = targetProblem(channel, target, local);
  return problem ? [{ path: 'target', message: problem }] : [];
};

/**
 * The subscribe-time check of a target, with DNS for a webhook outside local
 * mode: the pure check first, then what the host name resolves to.
 */
export const targetIssuesResolved = async (channel: Channel, target: string, local: boolean, resolve: Resolver): Promise<FieldIssue[]> => {
  const issues = targetIssues(channel, target, local);
  if (issues.length || channel !== 'webhook' || local) return issues;
  const problem = await resolvedHostProblem(new URL(target).hostname, resolve);
  return problem ? [{ path: 'target', message: `must point at a public host: ${problem}` }] : [];
};
