import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VersionFloor } from '../../src/store/postgres/version-floor.js';
import type { JobChange } from '../../src/store/types.js';

const change = (version: number, kind: JobChange['kind'] = 'updated', jobId = 'j'): JobChange => ({
  jobId,
  phase: kind === 'deleted' ? null : 'QUEUED',
  version,
  kind,
});

describe('VersionFloor (PostgreSQL change feed)', () => {
  it('passes each version once, newer ones only', () => {
    const floor = new VersionFloor();
    assert.equal(floor.admit(change(1, 'created'), 0), true);
    assert.equal(floor.admit(change(1, 'created'), 1), false, 'echo of the same change');
    assert.equal(floor.admit(change(3), 2), true);
    assert.equal(floor.admit(change(2), 3), false, 'stale');
    assert.equal(floor.admit(change(3), 4), false, 'echo');
    assert.equal(floor.admit(change(4), 5), true);
    assert.equal(floor.admit(change(1, 'created', 'other'), 6), true, 'jobs are independent');
  });

  it('after a deletion lets only a new life of the id through', () => {
    const floor = new VersionFloor();
    floor.admit(change(5), 0);
    assert.equal(floor.admit(change(4, 'deleted'), 1), false, 'a deletion older than what was seen');
    assert.equal(floor.admit(change(5, 'deleted'), 2), true);
    assert.equal(floor.admit(change(5, 'deleted'), 3), false, 'echo of the deletion');
    assert.equal(floor.admit(change(6), 4), false, 'the old life, late');
    assert.equal(floor.admit(change(1, 'created'), 5), true, 'the id used again');
    assert.equal(floor.admit(change(2), 6), true);
  });

  it('forgets jobs after its time to live, so it does not grow without end', () => {
    const floor = new VersionFloor(1000);
    for (let i = 0; i < 100; i++) floor.admit(change(1, 'created', `j${i}`), i);
    assert.equal(floor.size, 100);
    assert.equal(floor.admit(change(1, 'created', 'j0'), 500), false);
    assert.equal(floor.admit(change(1, 'created', 'j1'), 1500), true, 'forgotten: a replay may repeat');
    assert.ok(floor.size <= 2, `${floor.size} entries after the sweep`);
  });
});
