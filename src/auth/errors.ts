/**
 * The request's credentials are wrong, or it has none where they are
 * required: 401 with the WWW-Authenticate challenges. HTTP allows 401 only
 * with a challenge, so where no strategy has one (a proxy header alone) it is
 * 403. The HTTP error handler maps it by its statusCode like Fastify's own
 * client errors.
 */
export class UnauthorizedError extends Error {
  readonly statusCode: 401 | 403;
  readonly challenges: readonly string[];
  constructor(message: string, challenges: readonly string[]) {
    super(message);
    this.name = 'UnauthorizedError';
    this.challenges = challenges;
    this.statusCode = challenges.length > 0 ? 401 : 403;
  }
}
