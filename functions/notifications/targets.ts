import type { FieldIssue } from '../platform/errors';
import type { Channel } from './model';

/**
 * Target validation per channel (pure). Email: one plain address. SMS:
 * E.164. Webhook: an absolute https URL without credentials; plain http
 * only in local mode and only to a loopback host (127.0.0.0/8, localhost,
 * ::1). Outside local mode a loopback or link-local host is refused even
 * over https: a webhook is a request our function makes, and it must not
 * reach the machine it runs on.
 */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const E164 = /^\+[1-9]\d{6,14}$/;

export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
};

const isLinkLocal = (hostname: string): boolean => /^169\.254\./.test(hostname) || /^\[?fe80:/i.test(hostname);

export const webhookUrlProblem = (target: string, local: boolean): string | undefined => {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'https:') {
    if (!local && (isLoopbackHost(url.hostname) || isLinkLocal(url.hostname))) return 'must not point at a loopback or link-local host';
    return undefined;
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
