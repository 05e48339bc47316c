#!/usr/bin/python3
"""The async cycle a scientist runs with pyvo, against an ivoa-uws server.

Usage: /usr/bin/python3 scripts/interop-pyvo.py http://127.0.0.1:PORT

Drives the built-in `catalogue` and `sleep` job types through pyvo's own UWS
client (pyvo.dal.tap.AsyncTAPJob, TAPService.get_job/get_job_list) and its UWS
parser (pyvo.io.uws). Prints one JSON object per step on stdout,
{"step": ..., "ok": true|false, ...details}, and exits 1 if any step failed,
so that the calling test can show exactly which pyvo call broke.
"""

import datetime
import io
import json
import sys
import time
import traceback
import warnings

import pyvo
from pyvo.dal.tap import AsyncTAPJob, TAPService
from pyvo.io import uws
from pyvo.utils.http import create_session

warnings.simplefilter("ignore")

ROOT = sys.argv[1].rstrip("/")
CATALOGUE = ROOT + "/catalogue"
SLEEP = ROOT + "/sleep"
ROWS = 25
SEED = 7

failed = []


def report(step, ok, **details):
    print(json.dumps({"step": step, "ok": ok, **details}, default=str), flush=True)
    if not ok:
        failed.append(step)


def step(name):
    """Runs a step; its return value (a dict) is reported as details, an exception as a failure."""

    def wrap(fn):
        try:
            details = fn() or {}
            report(name, True, **details)
        except Exception as exc:  # every failure is reported, not just the first
            report(name, False, error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc(limit=4))
        return fn

    return wrap


def check(condition, message):
    if not condition:
        raise AssertionError(message)


session = create_session()
service = TAPService(CATALOGUE, session=session)
state = {}


@step("version")
def _():
    return {"pyvo": pyvo.__version__}


@step("AsyncTAPJob.create (TAP parameters REQUEST, LANG, QUERY)")
def _():
    # pyvo's TAP entry point always sends REQUEST=doQuery, LANG and QUERY. The
    # catalogue job type declares only ROWS and SEED, so whether this works depends
    # on how the server treats parameters it does not know. Reported, not required.
    try:
        job = AsyncTAPJob.create(CATALOGUE, "SELECT * FROM catalogue", ROWS=3)
        phase = job.phase
        job.delete()
        return {"outcome": "created", "phase": phase}
    except Exception as exc:
        return {"outcome": "refused", "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


@step("create: POST {base}/async ROWS, SEED through pyvo's session")
def _():
    response = session.post(CATALOGUE + "/async", data={"ROWS": ROWS, "SEED": SEED})
    response.raise_for_status()
    redirects = [(r.status_code, r.headers.get("Location")) for r in response.history]
    check(len(redirects) == 1 and redirects[0][0] == 303, f"expected one 303, got {redirects}")
    check(redirects[0][1].startswith("http://"), f"Location is not absolute: {redirects[0][1]}")
    job = AsyncTAPJob(response.url, session=session)
    state["job"] = job
    return {"url": job.url, "jobId": job.job_id, "redirects": redirects}


@step("job.phase is PENDING, parameters parsed")
def _():
    job = state["job"]
    check(job.phase == "PENDING", f"phase {job.phase}")
    params = {p.id_: p.content for p in job.job.parameters}
    check(params.get("ROWS") == str(ROWS) and params.get("SEED") == str(SEED), f"parameters {params}")
    return {"phase": job.phase, "parameters": params, "uws_version": job.uws_version}


@step("job.execution_duration = 120")
def _():
    job = state["job"]
    job.execution_duration = 120
    value = job.execution_duration
    seconds = round(float(value.sec if hasattr(value, "sec") else value))
    check(seconds == 120, f"executionDuration is {value}")
    return {"executionDuration": seconds}


@step("job.destruction = now + 2 days")
def _():
    job = state["job"]
    wanted = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(days=2)
    job.destruction = wanted
    got = job.destruction
    got_dt = got.to_datetime() if hasattr(got, "to_datetime") else got
    delta = abs((got_dt.replace(tzinfo=None) - wanted).total_seconds())
    check(delta < 2, f"destruction {got} differs from {wanted} by {delta} s")
    return {"destruction": str(got)}


@step("job.run(); job.wait()")
def _():
    job = state["job"]
    job.run()
    job.wait(timeout=60)
    job.raise_if_error()
    check(job.phase == "COMPLETED", f"phase {job.phase}")
    return {"phase": "COMPLETED", "result_uri": job.result_uri}


@step("job.fetch_result(): the VOTable rows")
def _():
    job = state["job"]
    result = job.fetch_result()
    table = result.to_table()
    check(len(result) == ROWS, f"{len(result)} rows, expected {ROWS}")
    check(table.colnames == ["id", "ra", "dec", "mag"], f"columns {table.colnames}")
    rows = [[int(r["id"]), float(r["ra"]), float(r["dec"]), float(r["mag"])] for r in table]
    check([r[0] for r in rows] == list(range(1, ROWS + 1)), "ids are not 1..ROWS")
    for _id, ra, dec, mag in rows:
        check(0 <= ra < 360 and -90 <= dec <= 90 and 12 <= mag <= 22, f"row out of range: {_id} {ra} {dec} {mag}")
    check(str(table["ra"].unit) == "deg", f"ra unit {table['ra'].unit}")
    return {"rows": rows}


@step("TAPService.get_job (pyvo.io.uws.parse_job)")
def _():
    job = state["job"]
    parsed = service.get_job(job.job_id)
    check(parsed.phase == "COMPLETED", f"phase {parsed.phase}")
    check(parsed.version == "1.1", f"version {parsed.version}")
    hrefs = [r.href for r in parsed.results]
    check(len(hrefs) == 1 and hrefs[0].endswith("/results/result"), f"results {hrefs}")
    return {"version": parsed.version, "results": hrefs}


@step("create a slow sleep job and run it")
def _():
    response = session.post(SLEEP + "/async", data={"DURATION": 30})
    response.raise_for_status()
    slow = AsyncTAPJob(response.url, session=session)
    slow.run()
    # Not slow.wait(phases={"EXECUTING"}): pyvo's wait() sends WAIT=-1 before it
    # looks at the phase, so a job already EXECUTING blocks it until the job ends,
    # and it then loops for ever on a phase it was not asked for. Poll instead.
    deadline = time.monotonic() + 30
    while slow.phase != "EXECUTING" and time.monotonic() < deadline:
        time.sleep(0.05)
    check(slow.phase == "EXECUTING", f"phase {slow.phase}")
    state["slow"] = slow
    return {"jobId": slow.job_id, "phase": "EXECUTING"}


@step("slow.abort()")
def _():
    slow = state["slow"]
    slow.abort()
    phase = slow.phase
    check(phase == "ABORTED", f"phase {phase} after abort")
    return {"phase": phase}


@step("get_job_list: PHASE, LAST, AFTER (pyvo.io.uws.parse_job_list)")
def _():
    job, slow = state["job"], state["slow"]
    # A second catalogue job, left PENDING and created after the first.
    time.sleep(0.01)
    later = AsyncTAPJob(session.post(CATALOGUE + "/async", data={"ROWS": 1}).url, session=session)
    state["later"] = later
    completed = service.get_job_list(phases=["COMPLETED"])
    check(job.job_id in [j.jobid for j in completed], "completed job missing from PHASE=COMPLETED")
    check(all(j.phase == "COMPLETED" for j in completed), "PHASE=COMPLETED listed another phase")
    both = service.get_job_list(phases=["COMPLETED", "PENDING"])
    ids = [j.jobid for j in both]
    check(job.job_id in ids and later.job_id in ids, f"PHASE union misses a job: {ids}")
    check(all(j.phase in ("COMPLETED", "PENDING") for j in both), "PHASE union listed another phase")
    last = service.get_job_list(last=1)
    check([j.jobid for j in last] == [later.job_id], f"LAST=1 gave {[j.jobid for j in last]}")
    created = service.get_job(job.job_id).creationtime
    created_dt = created.to_datetime() if hasattr(created, "to_datetime") else created
    after = service.get_job_list(after=created_dt.replace(tzinfo=None))
    after_ids = [j.jobid for j in after]
    check(job.job_id not in after_ids and later.job_id in after_ids, f"AFTER gave {after_ids}")
    aborted = TAPService(SLEEP, session=session).get_job_list(phases=["ABORTED"], last=10)
    check(slow.job_id in [j.jobid for j in aborted], "aborted sleep job missing from PHASE=ABORTED")
    # The parser itself, on a raw document.
    raw = session.get(CATALOGUE + "/async", params={"LAST": 5})
    parsed = list(uws.parse_job_list(io.BytesIO(raw.content)))
    check(later.job_id in [j.jobid for j in parsed], "parse_job_list missed the newest job")
    return {
        "completed": len(completed),
        "union": len(ids),
        "last1": [j.jobid for j in last],
        "after": after_ids,
        "aborted": len(aborted),
    }


@step("job.delete() for each job")
def _():
    jobs = [state["job"], state["later"], state["slow"]]
    urls = [j.url for j in jobs]
    ids = [j.job_id for j in jobs]
    for j in jobs:
        j.delete()
    gone = [session.get(u).status_code for u in urls]
    check(gone == [404, 404, 404], f"after delete: {gone}")
    remaining = [j.jobid for j in service.get_job_list()] + [j.jobid for j in TAPService(SLEEP).get_job_list()]
    check(all(i not in remaining for i in ids), "a deleted job is still listed")
    return {"status_after_delete": gone}


sys.exit(1 if failed else 0)
