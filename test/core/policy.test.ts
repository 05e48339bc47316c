import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BadRequestError } from '../../src/core/errors.js';
import { XS_INT_MAX } from '../../src/core/job.js';
import {
  DEFAULT_TIME_POLICY,
  effectiveDestruction,
  effectiveExecutionDuration,
  parseExecutionDuration,
  type TimePolicy,
  validateTimePolicy,
} from '../../src/core/policy.js';

// Fixed so that CI runs are reproducible; fast-check prints the seed of any failure.
const SEED = 20_261_128;

const policy = (
  ed: Partial<TimePolicy['executionDuration']> = {},
  lifetime: Partial<TimePolicy['lifetime']> = {},
): TimePolicy => ({
  executionDuration: { default: 600, max: 3600, allowUnlimited: false, ...ed },
  lifetime: { default: 86_400, max: 7 * 86_400, ...lifetime },
});

describe('effectiveExecutionDuration (ED-4, ED-5, OBJ-19)', () => {
  it('gives the default when the client asks for nothing', () => {
    assert.equal(effectiveExecutionDuration(policy(), undefined), 600);
    assert.equal(effectiveExecutionDuration(policy({ default: 0, allowUnlimited: true }), undefined), 0);
  });

  it('lets a client lower the duration', () => {
    assert.equal(effectiveExecutionDuration(policy(), 1), 1);
    assert.equal(effectiveExecutionDuration(policy(), 100), 100);
    assert.equal(effectiveExecutionDuration(policy(), 3600), 3600);
  });

  it('clamps a request above the maximum to the maximum', () => {
    assert.equal(effectiveExecutionDuration(policy(), 3601), 3600);
    assert.equal(effectiveExecutionDuration(policy(), 1e9), 3600);
  });

  it('grants 0 (unlimited) only where the policy allows it, else the maximum', () => {
    assert.equal(effectiveExecutionDuration(policy({ allowUnlimited: true }), 0), 0);
    assert.equal(effectiveExecutionDuration(policy({ allowUnlimited: false }), 0), 3600);
  });

  it('clamps to xs:int when the policy sets no maximum', () => {
    const open = policy({ max: 0, allowUnlimited: false });
    assert.equal(effectiveExecutionDuration(open, XS_INT_MAX + 1), XS_INT_MAX);
    assert.equal(effectiveExecutionDuration(open, Number.MAX_SAFE_INTEGER), XS_INT_MAX);
    assert.equal(effectiveExecutionDuration(open, 0), XS_INT_MAX);
    assert.equal(effectiveExecutionDuration(open, 5), 5);
  });

  it('always yields an xs:int within the policy (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: XS_INT_MAX }),
        fc.boolean(),
        fc.option(fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.maxSafeNat()), { nil: undefined }),
        (max, allowUnlimited, requested) => {
          const p = policy({
            default: max === 0 ? 0 : Math.min(600, max),
            max,
            allowUnlimited: allowUnlimited || max === 0,
          });
          const got = effectiveExecutionDuration(p, requested);
          assert.ok(Number.isInteger(got) && got >= 0 && got <= XS_INT_MAX, String(got));
          if (requested === undefined) assert.equal(got, p.executionDuration.default);
          else if (got === 0) assert.ok(p.executionDuration.allowUnlimited && requested === 0);
          else {
            if (max > 0) assert.ok(got <= max);
            assert.ok(got <= requested || requested === 0);
          }
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('parseExecutionDuration', () => {
  it('accepts whole seconds', () => {
    assert.equal(parseExecutionDuration('600'), 600);
    assert.equal(parseExecutionDuration('0'), 0);
    assert.equal(parseExecutionDuration(' +60 '), 60);
  });

  it("accepts pyvo's integral floats such as 600.0 (ED-5)", () => {
    assert.equal(parseExecutionDuration('600.0'), 600);
    assert.equal(parseExecutionDuration('6e2'), 600);
  });

  it('cuts fractions to whole seconds, but never down to 0 (which would mean unlimited)', () => {
    assert.equal(parseExecutionDuration('600.9'), 600);
    assert.equal(parseExecutionDuration('0.5'), 1);
    assert.equal(parseExecutionDuration('.001'), 1);
    assert.equal(parseExecutionDuration('0.0'), 0);
  });

  it('turns absurdly large values into a number the policy then clamps', () => {
    const n = parseExecutionDuration('1e400');
    assert.ok(Number.isSafeInteger(n) && n > XS_INT_MAX);
    assert.equal(effectiveExecutionDuration(policy({ max: 0 }), n), XS_INT_MAX);
    assert.equal(parseExecutionDuration('99999999999999999999'), 1e20);
  });

  it('refuses negatives, text and empty values, naming EXECUTIONDURATION', () => {
    for (const text of ['-1', '-0', 'abc', '', ' ', '1h', '0x10', 'Infinity', 'NaN', '1,5', '10 20']) {
      let caught: unknown;
      try {
        parseExecutionDuration(text);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof BadRequestError, `'${text}' should be refused`);
      assert.equal(caught.parameter, 'EXECUTIONDURATION');
      assert.match(caught.message, /^EXECUTIONDURATION: /);
    }
  });
});

describe('effectiveDestruction (DS-4)', () => {
  const created = Date.UTC(2026, 0, 1);
  const p = policy({}, { default: 86_400, max: 7 * 86_400 });

  it('gives creation time plus the default lifetime when the client asks for nothing', () => {
    assert.equal(effectiveDestruction(p, created, undefined), created + 86_400_000);
  });

  it('lets a client ask for an earlier or later time up to the maximum lifetime', () => {
    assert.equal(effectiveDestruction(p, created, created + 3_600_000), created + 3_600_000);
    assert.equal(effectiveDestruction(p, created, created + 7 * 86_400_000), created + 7 * 86_400_000);
  });

  it('clamps a later request to creation time plus the maximum lifetime', () => {
    assert.equal(effectiveDestruction(p, created, created + 7 * 86_400_000 + 1), created + 7 * 86_400_000);
    assert.equal(effectiveDestruction(p, created, Date.UTC(9999, 0, 1)), created + 7 * 86_400_000);
  });
});

describe('validateTimePolicy', () => {
  it('accepts the default policy and sensible ones', () => {
    validateTimePolicy(DEFAULT_TIME_POLICY, 'default');
    validateTimePolicy(policy(), 'sensible');
    validateTimePolicy(policy({ default: 0, max: 0, allowUnlimited: true }), 'unlimited');
    validateTimePolicy(policy({ default: 10, max: 0 }), 'no maximum');
    validateTimePolicy(policy({ max: XS_INT_MAX }), 'xs:int');
  });

  const refused: [string, TimePolicy, RegExp][] = [
    ['negative default', policy({ default: -1 }), /executionDuration.default must be an integer >= 0/],
    ['fractional default', policy({ default: 1.5 }), /executionDuration.default must be an integer/],
    ['max beyond xs:int', policy({ max: XS_INT_MAX + 1 }), /executionDuration.max must fit xs:int/],
    ['negative max', policy({ max: -1 }), /executionDuration.max must fit xs:int/],
    ['default over max', policy({ default: 3601 }), /default exceeds executionDuration.max/],
    ['unlimited default not allowed', policy({ default: 0 }), /allowUnlimited is false/],
    ['zero lifetime', policy({}, { default: 0 }), /lifetime.default must be > 0/],
    [
      'lifetime over max',
      policy({}, { default: 10, max: 5 }),
      /lifetime.default must be > 0 and <= lifetime.max/,
    ],
  ];
  for (const [what, p, message] of refused) {
    it(`refuses a policy with ${what}, saying where`, () => {
      assert.throws(
        () => validateTimePolicy(p, 'jobType tap'),
        (e: unknown) =>
          e instanceof Error && e.message.startsWith('jobType tap: ') && message.test(e.message),
      );
    });
  }
});
