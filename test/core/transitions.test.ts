import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidTransitionError, NotAllowedInPhaseError } from '../../src/core/errors.js';
import { END_PHASES, PHASES, type Phase } from '../../src/core/phases.js';
import { type Actor, planTransition, TRANSITIONS, timesFor } from '../../src/core/transitions.js';

function hasRule(from: Phase, to: Phase, actor: Actor): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to && t.actor === actor);
}

function assertApplies(from: Phase, to: Phase, actor: Actor): void {
  const plan = planTransition(from, to, actor);
  assert.equal(plan.kind, 'apply', `${actor} ${from}->${to} should apply`);
  if (plan.kind === 'apply') {
    assert.equal(plan.rule.from, from);
    assert.equal(plan.rule.to, to);
    assert.equal(plan.rule.actor, actor);
  }
}

describe('transition table (issue 2, OBJ-17, OBJ-18)', () => {
  it('lets a client RUN a PENDING job into QUEUED', () => {
    assertApplies('PENDING', 'QUEUED', 'client');
    const rule = TRANSITIONS.find((t) => t.actor === 'client' && t.from === 'PENDING' && t.to === 'QUEUED');
    assert.equal(rule?.event, 'run');
  });

  it('lets a client ABORT a PENDING, QUEUED or EXECUTING job', () => {
    for (const from of ['PENDING', 'QUEUED', 'EXECUTING'] as const) {
      assertApplies(from, 'ABORTED', 'client');
      const rule = TRANSITIONS.find((t) => t.actor === 'client' && t.from === from && t.to === 'ABORTED');
      assert.equal(rule?.event, 'abort');
    }
  });

  it('lets the server start a QUEUED job', () => {
    assertApplies('QUEUED', 'EXECUTING', 'server');
  });

  it('lets the server end an EXECUTING job as COMPLETED, ERROR or ABORTED', () => {
    for (const to of ['COMPLETED', 'ERROR', 'ABORTED'] as const) assertApplies('EXECUTING', to, 'server');
  });

  it('lets the server fail any active job', () => {
    for (const from of ['PENDING', 'QUEUED', 'EXECUTING', 'SUSPENDED', 'HELD', 'UNKNOWN'] as const) {
      assertApplies(from, 'ERROR', 'server');
    }
  });

  it('lets the server archive every end phase', () => {
    for (const from of ['COMPLETED', 'ERROR', 'ABORTED'] as const) assertApplies(from, 'ARCHIVED', 'server');
  });

  it('reaches COMPLETED only from EXECUTING, by the server', () => {
    const into = TRANSITIONS.filter((t) => t.to === 'COMPLETED');
    assert.deepEqual(
      into.map((t) => [t.from, t.actor]),
      [['EXECUTING', 'server']],
    );
  });

  it('gives clients no way into any phase but QUEUED or ABORTED', () => {
    const clientTargets = new Set(TRANSITIONS.filter((t) => t.actor === 'client').map((t) => t.to));
    assert.deepEqual([...clientTargets].sort(), ['ABORTED', 'QUEUED']);
  });

  it('has no rule out of an end phase except into ARCHIVED, and none out of ARCHIVED', () => {
    for (const t of TRANSITIONS) {
      if (END_PHASES.has(t.from)) assert.equal(t.to, 'ARCHIVED', `${t.from}->${t.to}`);
      assert.notEqual(t.from, 'ARCHIVED');
      assert.notEqual(t.from, t.to, 'a rule must change the phase');
    }
  });

  it('uses only real phases and holds no duplicate rule', () => {
    const keys = TRANSITIONS.map((t) => `${t.actor}:${t.from}>${t.to}`);
    assert.equal(new Set(keys).size, keys.length);
    for (const t of TRANSITIONS) {
      assert.ok(PHASES.includes(t.from));
      assert.ok(PHASES.includes(t.to));
      assert.ok(t.event.length > 0);
    }
  });
});

describe('race rules', () => {
  it('keeps ABORTED when a late COMPLETED arrives after an ABORT', () => {
    assert.deepEqual(planTransition('ABORTED', 'COMPLETED', 'server'), {
      kind: 'noop',
      reason: 'already-ended',
    });
  });

  it('ignores any late change of an ended job', () => {
    for (const from of ['COMPLETED', 'ERROR', 'ABORTED'] as const) {
      for (const to of PHASES) {
        if (to === from || to === 'ARCHIVED') continue;
        for (const actor of ['client', 'server'] as const) {
          assert.deepEqual(
            planTransition(from, to, actor),
            { kind: 'noop', reason: 'already-ended' },
            `${actor} ${from}->${to}`,
          );
        }
      }
    }
  });

  it('never changes an ARCHIVED job', () => {
    for (const to of PHASES) {
      if (to === 'ARCHIVED') continue;
      for (const actor of ['client', 'server'] as const) {
        assert.deepEqual(planTransition('ARCHIVED', to, actor), { kind: 'noop', reason: 'already-ended' });
      }
    }
  });

  it('treats a request for the current phase as a no-op, whoever asks', () => {
    for (const phase of PHASES) {
      for (const actor of ['client', 'server'] as const) {
        assert.deepEqual(planTransition(phase, phase, actor), { kind: 'noop', reason: 'same-phase' });
      }
    }
  });
});

describe('undefined transitions', () => {
  it('throws a typed InvalidTransitionError naming both phases', () => {
    const err = (() => {
      try {
        planTransition('PENDING', 'COMPLETED', 'server');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof InvalidTransitionError);
    assert.ok(err instanceof NotAllowedInPhaseError, 'maps to the NotAllowedInPhase status');
    assert.equal(err.kind, 'NotAllowedInPhase');
    assert.equal(err.phase, 'PENDING');
    assert.equal(err.to, 'COMPLETED');
    assert.match(err.message, /PENDING/);
    assert.match(err.message, /COMPLETED/);
    assert.match(err.message, /server/);
  });

  it('refuses a client asking to complete, start or archive a job', () => {
    assert.throws(() => planTransition('EXECUTING', 'COMPLETED', 'client'), InvalidTransitionError);
    assert.throws(() => planTransition('QUEUED', 'EXECUTING', 'client'), InvalidTransitionError);
    assert.throws(() => planTransition('PENDING', 'EXECUTING', 'client'), InvalidTransitionError);
    assert.throws(() => planTransition('COMPLETED', 'ARCHIVED', 'client'), InvalidTransitionError);
  });

  it('refuses a server skipping EXECUTING on the way to COMPLETED', () => {
    for (const from of ['PENDING', 'QUEUED', 'SUSPENDED', 'HELD', 'UNKNOWN'] as const) {
      assert.throws(() => planTransition(from, 'COMPLETED', 'server'), InvalidTransitionError);
    }
  });

  it('refuses archiving a job that has not ended', () => {
    for (const from of ['PENDING', 'QUEUED', 'EXECUTING', 'SUSPENDED', 'HELD', 'UNKNOWN'] as const) {
      assert.throws(() => planTransition(from, 'ARCHIVED', 'server'), InvalidTransitionError);
    }
  });

  it('throws for exactly the pairs the table leaves out (exhaustive)', () => {
    for (const from of PHASES) {
      for (const to of PHASES) {
        for (const actor of ['client', 'server'] as const) {
          const defined = hasRule(from, to, actor);
          const ended = from === 'ARCHIVED' || (END_PHASES.has(from) && to !== 'ARCHIVED');
          if (defined) assertApplies(from, to, actor);
          else if (from === to || ended) assert.equal(planTransition(from, to, actor).kind, 'noop');
          else assert.throws(() => planTransition(from, to, actor), InvalidTransitionError);
        }
      }
    }
  });
});

describe('timesFor', () => {
  const t0 = Date.UTC(2026, 0, 1);

  it('sets startTime on entering EXECUTING and clears endTime', () => {
    assert.deepEqual(timesFor('EXECUTING', t0, { startTime: null, endTime: null }), {
      startTime: t0,
      endTime: null,
    });
  });

  it('keeps the first startTime when a SUSPENDED job resumes', () => {
    assert.deepEqual(timesFor('EXECUTING', t0 + 5000, { startTime: t0, endTime: null }), {
      startTime: t0,
      endTime: null,
    });
  });

  it('clears both times when a job is (re)queued', () => {
    assert.deepEqual(timesFor('QUEUED', t0, { startTime: t0 - 1, endTime: null }), {
      startTime: null,
      endTime: null,
    });
  });

  it('sets endTime on every end phase and keeps startTime', () => {
    for (const to of ['COMPLETED', 'ERROR', 'ABORTED'] as const) {
      assert.deepEqual(timesFor(to, t0 + 10, { startTime: t0, endTime: null }), {
        startTime: t0,
        endTime: t0 + 10,
      });
    }
  });

  it('leaves the times of an archived job as they were', () => {
    assert.deepEqual(timesFor('ARCHIVED', t0 + 99, { startTime: t0, endTime: t0 + 10 }), {
      startTime: t0,
      endTime: t0 + 10,
    });
  });
});
