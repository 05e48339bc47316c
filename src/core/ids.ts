/**
 * Job ids: 128 random bits as base64url (22 characters), URL-path safe (URI-3) and
 * unguessable, so an anonymous job is reachable only by whoever was given its URL.
 * An id never starts with '-' or '_': command lines (ours, curl's, a shell's)
 * would take a leading '-' for an option. Redrawing those costs under 0.05 bits.
 */
export function newJobId(): string {
  const bytes = new Uint8Array(16);
  for (;;) {
    globalThis.crypto.getRandomValues(bytes);
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    const id = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    if (id[0] !== '-' && id[0] !== '_') return id;
  }
}

const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Cheap syntactic check before any store look-up; anything else is simply not found. */
export function isWellFormedJobId(id: string): boolean {
  return JOB_ID.test(id);
}
