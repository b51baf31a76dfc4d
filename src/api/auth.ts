import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares an offered API key with the configured one in constant time (hashes of equal length). */
export class ApiKeyCheck {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = createHash('sha256').update(key).digest();
  }

  matches(offered: string | string[] | undefined): boolean {
    if (typeof offered !== 'string' || offered.length === 0) return false;
    return timingSafeEqual(createHash('sha256').update(offered).digest(), this.#digest);
  }
}
