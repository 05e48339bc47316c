import type { FastifyInstance } from 'fastify';
import type { ParameterDeclaration } from '../core/parameters.js';
import { PHASES } from '../core/phases.js';
import type { JobType } from '../exec/job-type.js';

type Json = Record<string, unknown>;

export interface OpenApiOptions {
  /** Where clients reach the service (servers[0].url); default: relative to the document. */
  readonly serverUrl?: string;
  /** Where the UWS routes are mounted, e.g. `/uws`; default the root. */
  readonly basePath?: string;
  readonly version?: string;
}

const XML = 'application/xml';
const JSON_TYPE = 'application/json';
const HTML = 'text/html';
const TEXT = 'text/plain';
const FORM = 'application/x-www-form-urlencoded';
const MULTIPART = 'multipart/form-data';

const ref = (name: string) => ({ $ref: `#/components/${name}` });

/** The JSON schema of one declared parameter, as a form field carries it (always text on the wire). */
function parameterSchema(d: ParameterDeclaration): Json {
  const base: Json = { description: d.description ?? '' };
  if (d.default !== undefined) base['default'] = d.default;
  let schema: Json;
  switch (d.type) {
    case 'integer':
      schema = { ...base, type: 'integer', ...range(d) };
      break;
    case 'number':
      schema = { ...base, type: 'number', ...range(d) };
      break;
    case 'boolean':
      schema = { ...base, type: 'string', enum: ['true', 'false', '1', '0'] };
      break;
    case 'enum':
      schema = { ...base, type: 'string', enum: [...(d.values ?? [])] };
      break;
    case 'date':
      schema = { ...base, type: 'string', format: 'date-time' };
      break;
    case 'file':
      schema = {
        ...base,
        description: `${d.description ?? 'a file'}: a file part of this name, param:<part>, or an http(s) URL`,
        type: 'string',
      };
      break;
    case 'upload':
      schema = {
        ...base,
        description: `${d.description ?? 'uploads'}: DALI UPLOAD, name,param:<part> or name,<http(s) URL>`,
        type: 'string',
        pattern: '^[A-Za-z][A-Za-z0-9_]*,.+$',
      };
      break;
    default:
      schema = { ...base, type: 'string', ...(d.maxLength !== undefined ? { maxLength: d.maxLength } : {}) };
  }
  return d.multiple || d.type === 'upload'
    ? { type: 'array', items: schema, description: schema['description'] }
    : schema;
}

function range(d: ParameterDeclaration): Json {
  return {
    ...(d.min !== undefined ? { minimum: d.min } : {}),
    ...(d.max !== undefined ? { maximum: d.max } : {}),
  };
}

/** The form body of a job creation (JL-POST-*): declared parameters plus the UWS control parameters. */
function creationBody(type: JobType, withControls: boolean): Json {
  const properties: Json = {};
  for (const d of type.schema.declarations) properties[d.name] = parameterSchema(d);
  if (withControls) {
    properties['PHASE'] = { type: 'string', enum: ['RUN'], description: 'start the job at once' };
    properties['RUNID'] = { type: 'string', maxLength: 64, description: "the client's label for the job" };
    properties['DESTRUCTION'] = { type: 'string', format: 'date-time' };
    properties['EXECUTIONDURATION'] = { type: 'integer', minimum: 0, description: 'seconds; 0 is unlimited' };
  }
  const required = type.schema.declarations
    .filter((d) => d.required && d.default === undefined)
    .map((d) => d.name);
  const schema: Json = { type: 'object', properties };
  // Required parameters may also come later (POST to /parameters) before PHASE=RUN; say it in the description.
  if (required.length) schema['description'] = `Required before the job can run: ${required.join(', ')}`;
  const multipart: Json = {
    schema: { ...schema, additionalProperties: { type: 'string', format: 'binary' } },
  };
  return { required: false, content: { [FORM]: { schema }, [MULTIPART]: multipart } };
}

const seeOther = (what: string): Json => ({
  description: `303 See Other: ${what}`,
  headers: { Location: { schema: { type: 'string', format: 'uri' } } },
});
const textValue = (what: string): Json => ({
  description: what,
  content: { [TEXT]: { schema: { type: 'string' } } },
});
const documentOf = (name: string, what: string): Json => ({
  description: what,
  content: {
    [XML]: { schema: { type: 'string' } },
    [JSON_TYPE]: { schema: ref(`schemas/${name}`) },
  },
});
const errors = {
  '400': ref('responses/BadRequest'),
  '403': ref('responses/Forbidden'),
  '404': ref('responses/NotFound'),
};

function jobTypePaths(type: JobType, base: string): Record<string, Json> {
  const t = `${base}/${type.name}`;
  const job = `${t}/async/{jobId}`;
  const tag = [type.name];
  const jobId = ref('parameters/jobId');
  const form = (name: string, schema: Json, description: string): Json => ({
    required: true,
    content: {
      [FORM]: {
        schema: { type: 'object', required: [name], properties: { [name]: { ...schema, description } } },
      },
    },
  });
  return {
    [`${t}/async`]: {
      get: {
        tags: tag,
        summary: `The ${type.name} job list`,
        description: 'XML by default; JSON for Accept: application/json; an HTML page for browsers.',
        parameters: [
          {
            name: 'PHASE',
            in: 'query',
            description: 'only jobs in these phases (repeatable); default all but ARCHIVED',
            schema: { type: 'array', items: { type: 'string', enum: [...PHASES] } },
            style: 'form',
            explode: true,
          },
          {
            name: 'AFTER',
            in: 'query',
            description: 'only jobs created after this instant',
            schema: { type: 'string', format: 'date-time' },
          },
          {
            name: 'LAST',
            in: 'query',
            description: 'only the n most recent jobs',
            schema: { type: 'integer', minimum: 1 },
          },
        ],
        responses: {
          '200': {
            description: 'the job list',
            content: {
              [XML]: { schema: { type: 'string' } },
              [JSON_TYPE]: { schema: ref('schemas/JobList') },
              [HTML]: { schema: { type: 'string' } },
            },
          },
          '400': ref('responses/BadRequest'),
        },
      },
      post: {
        tags: tag,
        summary: `Create a ${type.name} job`,
        description: type.description,
        requestBody: creationBody(type, true),
        responses: {
          '303': seeOther('the new job'),
          '400': ref('responses/BadRequest'),
          '413': ref('responses/TooLarge'),
        },
      },
    },
    [job]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'A job; with WAIT, block until its phase changes',
        parameters: [
          {
            name: 'WAIT',
            in: 'query',
            description: 'seconds to wait for a phase change; negative: as long as allowed',
            schema: { type: 'integer' },
          },
          {
            name: 'PHASE',
            in: 'query',
            description: 'wait only while the job is in this phase',
            schema: { type: 'string', enum: [...PHASES] },
          },
        ],
        responses: {
          '200': {
            description: 'the job',
            content: {
              [XML]: { schema: { type: 'string' } },
              [JSON_TYPE]: { schema: ref('schemas/Job') },
              [HTML]: { schema: { type: 'string' } },
            },
          },
          ...errors,
        },
      },
      post: {
        tags: tag,
        summary: 'ACTION=DELETE destroys the job',
        requestBody: form('ACTION', { type: 'string', enum: ['DELETE'] }, 'the only action'),
        responses: { '303': seeOther('the job list'), ...errors },
      },
      delete: {
        tags: tag,
        summary: 'Destroy the job',
        responses: { '303': seeOther('the job list'), ...errors },
      },
    },
    [`${job}/phase`]: {
      parameters: [jobId],
      get: { tags: tag, summary: 'The phase', responses: { '200': textValue('the phase'), ...errors } },
      post: {
        tags: tag,
        summary: 'PHASE=RUN queues the job, PHASE=ABORT aborts it',
        requestBody: form('PHASE', { type: 'string', enum: ['RUN', 'ABORT'] }, 'RUN or ABORT'),
        responses: { '303': seeOther('the job'), ...errors },
      },
    },
    [`${job}/executionduration`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'Maximum run time in seconds (0: unlimited)',
        responses: { '200': textValue('seconds'), ...errors },
      },
      post: {
        tags: tag,
        summary: 'Change it while PENDING (clamped to the limit)',
        requestBody: form('EXECUTIONDURATION', { type: 'integer', minimum: 0 }, 'seconds'),
        responses: { '303': seeOther('the job'), ...errors },
      },
    },
    [`${job}/destruction`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'When the job will be destroyed',
        responses: { '200': textValue('an ISO 8601 instant, or empty'), ...errors },
      },
      post: {
        tags: tag,
        summary: 'Change the destruction time (clamped to the lifetime limit)',
        requestBody: form('DESTRUCTION', { type: 'string', format: 'date-time' }, 'an ISO 8601 instant'),
        responses: { '303': seeOther('the job'), ...errors },
      },
    },
    [`${job}/quote`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'When the job is expected to finish',
        responses: { '200': textValue('an ISO 8601 instant, or empty'), ...errors },
      },
    },
    [`${job}/owner`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'Who owns the job',
        responses: { '200': textValue('the owner, or empty'), ...errors },
      },
    },
    [`${job}/error`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'The whole error text of a failed job',
        responses: { '200': textValue('the error'), ...errors },
      },
    },
    [`${job}/results`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'The results list',
        responses: { '200': documentOf('Results', 'the results'), ...errors },
      },
    },
    [`${job}/results/{resultId}`]: {
      parameters: [jobId, { name: 'resultId', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        tags: tag,
        summary: 'A result',
        responses: {
          '200': {
            description: 'the content, with its own media type',
            content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
          },
          '303': seeOther('an external result'),
          ...errors,
        },
      },
    },
    [`${job}/parameters`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'The parameters',
        responses: { '200': documentOf('Parameters', 'the parameters'), ...errors },
      },
      post: {
        tags: tag,
        summary: 'Add or replace parameters while PENDING',
        requestBody: creationBody(type, false),
        responses: { '303': seeOther('the job'), ...errors },
      },
    },
    [`${job}/parameters/{name}`]: {
      parameters: [jobId, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        tags: tag,
        summary: 'The content of an uploaded parameter, or an inline value',
        parameters: [
          {
            name: 'index',
            in: 'query',
            description: 'which value of a multi-valued parameter',
            schema: { type: 'integer', minimum: 0 },
          },
        ],
        responses: {
          '200': {
            description: 'the content',
            content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors,
        },
      },
    },
    [`${t}/sync`]: {
      get: {
        tags: tag,
        summary: `Run a ${type.name} job synchronously (parameters in the query)`,
        responses: { '303': seeOther('where the result will be'), '400': ref('responses/BadRequest') },
      },
      post: {
        tags: tag,
        summary: `Run a ${type.name} job synchronously`,
        requestBody: creationBody(type, true),
        responses: { '303': seeOther('where the result will be'), '400': ref('responses/BadRequest') },
      },
    },
    [`${t}/sync/{jobId}`]: {
      parameters: [jobId],
      get: {
        tags: tag,
        summary: 'Waits for the synchronous job; redirects to its result, its error, or here again',
        responses: { '303': seeOther('the result, the error or this URL'), ...errors },
      },
    },
    [`${t}/capabilities`]: {
      get: {
        tags: tag,
        summary: 'VOSI capabilities',
        responses: {
          '200': { description: 'VOSI capabilities', content: { [XML]: { schema: { type: 'string' } } } },
        },
      },
    },
    [`${t}/availability`]: {
      get: {
        tags: tag,
        summary: 'VOSI availability',
        responses: {
          '200': { description: 'VOSI availability', content: { [XML]: { schema: { type: 'string' } } } },
        },
      },
    },
  };
}

const instant = { type: ['string', 'null'], format: 'date-time' };

const COMPONENTS: Json = {
  parameters: {
    jobId: {
      name: 'jobId',
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    },
  },
  responses: {
    BadRequest: {
      description: 'the request is wrong; the text says how',
      content: { [TEXT]: { schema: { type: 'string' } } },
    },
    Forbidden: {
      description: "another owner's job, or not allowed in this phase",
      content: { [TEXT]: { schema: { type: 'string' } } },
    },
    NotFound: { description: 'no such job or resource', content: { [TEXT]: { schema: { type: 'string' } } } },
    TooLarge: {
      description: 'the request or an upload is too large',
      content: { [TEXT]: { schema: { type: 'string' } } },
    },
  },
  schemas: {
    Phase: { type: 'string', enum: [...PHASES] },
    Result: {
      type: 'object',
      required: ['id', 'href', 'mimeType'],
      properties: {
        id: { type: 'string' },
        href: { type: 'string', format: 'uri' },
        size: { type: ['integer', 'null'] },
        mimeType: { type: 'string' },
      },
    },
    Parameter: {
      type: 'object',
      required: ['id', 'value', 'byReference'],
      properties: { id: { type: 'string' }, value: { type: 'string' }, byReference: { type: 'boolean' } },
    },
    Results: { type: 'object', properties: { results: { type: 'array', items: ref('schemas/Result') } } },
    Parameters: {
      type: 'object',
      properties: { parameters: { type: 'array', items: ref('schemas/Parameter') } },
    },
    Job: {
      type: 'object',
      required: ['jobId', 'phase', 'creationTime', 'executionDuration'],
      properties: {
        version: { type: 'string' },
        jobId: { type: 'string' },
        href: { type: 'string', format: 'uri' },
        runId: { type: ['string', 'null'] },
        ownerId: { type: ['string', 'null'] },
        phase: ref('schemas/Phase'),
        quote: instant,
        creationTime: { type: 'string', format: 'date-time' },
        startTime: instant,
        endTime: instant,
        executionDuration: { type: 'integer', minimum: 0 },
        destruction: instant,
        parameters: { type: 'array', items: ref('schemas/Parameter') },
        results: { type: 'array', items: ref('schemas/Result') },
        errorSummary: {
          type: ['object', 'null'],
          properties: {
            type: { type: 'string', enum: ['transient', 'fatal'] },
            hasDetail: { type: 'boolean' },
            message: { type: 'string' },
          },
        },
        jobInfo: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
      },
    },
    JobList: {
      type: 'object',
      properties: {
        version: { type: 'string' },
        jobs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'href', 'phase'],
            properties: {
              id: { type: 'string' },
              href: { type: 'string', format: 'uri' },
              phase: ref('schemas/Phase'),
              runId: { type: ['string', 'null'] },
              ownerId: { type: ['string', 'null'] },
              creationTime: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 description of the REST interface, generated from the job
 * types: one set of UWS paths per job list, with each type's declared
 * parameters as the creation form's fields.
 */
export function openApiDocument(types: readonly JobType[], options: OpenApiOptions = {}): Json {
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const paths: Record<string, Json> = {
    [base === '' ? '/' : base]: {
      get: {
        summary: 'The job types of this service and where their job lists are',
        responses: {
          '200': {
            description: 'discovery',
            content: { [JSON_TYPE]: { schema: { type: 'object' } }, [HTML]: { schema: { type: 'string' } } },
          },
        },
      },
    },
  };
  for (const type of types) Object.assign(paths, jobTypePaths(type, base));
  return {
    openapi: '3.1.0',
    info: {
      title: 'IVOA UWS 1.1 service',
      version: options.version ?? '1.1',
      description:
        'The Universal Worker Service pattern (IVOA UWS 1.1): job lists per job type, each job a tree of resources. ' +
        'Documents are XML by default (the UWS schema), JSON for Accept: application/json, HTML for browsers.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: types.map((t) => ({ name: t.name, description: t.description })),
    paths,
    components: COMPONENTS,
  };
}

/** Serves the document at `path` (default /openapi.json), built once: job types do not change while serving. */
export function registerOpenApi(
  app: FastifyInstance,
  types: readonly JobType[],
  options: OpenApiOptions & { readonly path?: string } = {},
): void {
  const body = JSON.stringify(openApiDocument(types, options));
  app.get(options.path ?? '/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').header('Cache-Control', 'no-cache').send(body),
  );
}
