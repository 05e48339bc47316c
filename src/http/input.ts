import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { BadRequestError, PayloadTooLargeError, UwsError } from '../core/errors.js';
import { watchBodyStall } from '../security/body-stall.js';
import type { RawParameter, StagedFile } from '../service.js';

/** Spools one uploaded file part to disk (WorkDirs.stageUpload in production, see workDirStager). */
export type Stager = (
  stream: Readable,
  partName: string,
  mediaType: string | undefined,
) => Promise<StagedFile>;

/** Removes a staged file that will not be used. */
export type Discarder = (file: StagedFile) => Promise<void>;

/** What a request carried: parameters from the query string and the body, in order, and staged files. */
export interface RequestInput {
  readonly parameters: RawParameter[];
  readonly files: StagedFile[];
}

/** The query string as ordered (name, value) pairs; repeated names stay repeated (JL-GET-5, DALI-5). */
export function queryParameters(request: FastifyRequest): RawParameter[] {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return [];
  return [...new URLSearchParams(url.slice(q + 1))].map(([name, value]) => ({ name, value }));
}

/** Every value given for `name`, compared case-insensitively (DALI-1). */
export function valuesOf(parameters: readonly RawParameter[], name: string): string[] {
  const wanted = name.toLowerCase();
  return parameters.filter((p) => p.name.toLowerCase() === wanted).map((p) => p.value);
}

/** The one value of a single-valued control parameter, undefined if absent; 400 if given differently twice. */
export function singleValue(parameters: readonly RawParameter[], name: string): string | undefined {
  const values = valuesOf(parameters, name);
  if (values.length > 1 && values.some((v) => v !== values[0])) {
    throw new BadRequestError(`${name} takes a single value but was given ${values.length}`, name);
  }
  return values[0];
}

/** The parsed urlencoded body, as the content type parser in server.ts leaves it. */
export function formPairs(body: string): RawParameter[] {
  return [...new URLSearchParams(body)].map(([name, value]) => ({ name, value }));
}

/**
 * Reads the parameters of a POST from the query string and the body (JL-POST-5,
 * JL-POST-6), urlencoded or multipart. File parts are spooled through `stage`;
 * when `acceptFiles` is false a file part is refused. On any failure the files
 * already staged are discarded before the error goes on.
 */
export async function readInput(
  request: FastifyRequest,
  options: { stage: Stager; discard: Discarder; acceptFiles: boolean },
): Promise<RequestInput> {
  const parameters = queryParameters(request);
  const files: StagedFile[] = [];
  if (!request.isMultipart()) {
    if (Array.isArray(request.body)) parameters.push(...(request.body as RawParameter[]));
    return { parameters, files };
  }
  // A stuck multipart parser would otherwise hold the request until the client gives up.
  const stall = watchBodyStall(request.raw);
  let abandoned = false;
  const readParts = async () => {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (part.valueTruncated || part.fieldnameTruncated) {
          throw new PayloadTooLargeError(
            `form field ${part.fieldname.slice(0, 80)} is longer than this service accepts`,
          );
        }
        parameters.push({ name: part.fieldname, value: String(part.value ?? '') });
        continue;
      }
      // A browser form sends an empty part for a file input left empty.
      if (part.filename === '' || part.filename === undefined) {
        part.file.resume();
        // finished() also settles for a part that already ended or failed: a body cut short can
        // fail it while an earlier file is still being spooled, and waiting for 'end' then hung.
        await finished(part.file).catch(() => {});
        continue;
      }
      if (!options.acceptFiles) {
        part.file.resume();
        throw new BadRequestError(
          `file part ${part.fieldname.slice(0, 80)} is not accepted here; upload files with the job's creation or to its parameters`,
          part.fieldname,
        );
      }
      const staged = await options.stage(part.file, part.fieldname, part.mimetype || undefined);
      if (abandoned) {
        await options.discard(staged).catch(() => {});
        return;
      }
      files.push(staged);
      if (part.file.truncated) {
        throw new PayloadTooLargeError(
          `uploaded file ${part.fieldname.slice(0, 80)} is larger than this service accepts`,
        );
      }
    }
  };
  const parsing = readParts();
  // After a stall the parsing may still fail later, when the connection goes: that is no news.
  parsing.catch(() => {});
  try {
    await Promise.race([parsing, stall.stalled]);
  } catch (err) {
    abandoned = true;
    await Promise.all(files.map((f) => options.discard(f).catch(() => {})));
    throw asMultipartProblem(err);
  } finally {
    stall.stop();
  }
  return { parameters, files };
}

/**
 * The multipart parser reports a broken body (cut short, a malformed part
 * header, no boundary) as a plain Error: that is the client's fault, a 400
 * naming what was wrong, not a fault of ours.
 */
function asMultipartProblem(err: unknown): unknown {
  if (!(err instanceof Error) || 'statusCode' in err || err instanceof UwsError) return err;
  if (!/multipart|part header|boundary/i.test(err.message)) return err;
  return new BadRequestError(`the multipart body cannot be read: ${err.message.slice(0, 120)}`);
}
