// STIL's UWS client (uk.ac.starlink.vo.UwsJob, the code TOPCAT's TAP window uses)
// against an ivoa-uws server: creates a catalogue job, changes its execution
// duration and destruction, starts it, follows it with blocking WAITs to the end,
// and reads the result VOTable with STIL.
//
// Usage: java -cp /usr/share/java/starlink-ttools.jar scripts/interop-stil.java \
//          http://127.0.0.1:PORT ROWS
//
// Prints one JSON object per line: {"step":...,"ok":...,...}; exits 1 if a step failed.

import java.net.URL;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import uk.ac.starlink.table.RowSequence;
import uk.ac.starlink.table.StarTable;
import uk.ac.starlink.table.StarTableFactory;
import uk.ac.starlink.util.URLDataSource;
import uk.ac.starlink.vo.UwsJob;
import uk.ac.starlink.vo.UwsJobInfo;

public class InteropStil {
  static boolean failed = false;

  static String q(String s) {
    if (s == null) return "null";
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  static void report(String step, boolean ok, String detailsJson) {
    System.out.println("{\"step\":" + q(step) + ",\"ok\":" + ok + (detailsJson.isEmpty() ? "" : "," + detailsJson) + "}");
    System.out.flush();
    if (!ok) failed = true;
  }

  static void check(boolean condition, String message) {
    if (!condition) throw new AssertionError(message);
  }

  interface Step {
    String run() throws Exception;
  }

  static void step(String name, Step body) {
    try {
      report(name, true, body.run());
    } catch (Throwable e) {
      report(name, false, "\"error\":" + q(e.getClass().getName() + ": " + e.getMessage()));
    }
  }

  public static void main(String[] args) throws Exception {
    String root = args[0].replaceAll("/+$", "");
    int rows = Integer.parseInt(args.length > 1 ? args[1] : "200000");
    // UwsJob logs through java.util.logging; keep stdout for our JSON lines.
    java.util.logging.Logger.getLogger("uk.ac.starlink").setLevel(java.util.logging.Level.WARNING);

    UwsJob[] holder = new UwsJob[1];
    List<String> phasesSeen = new ArrayList<>();

    step("UwsJob.createJob (POST {list}, expects 303 + absolute Location)", () -> {
      Map<String, String> params = new LinkedHashMap<>();
      params.put("ROWS", String.valueOf(rows));
      params.put("SEED", "11");
      UwsJob job = UwsJob.createJob(root + "/catalogue/async", params, null);
      holder[0] = job;
      check(job.getJobUrl().toString().startsWith(root + "/catalogue/async/"), "job URL " + job.getJobUrl());
      return "\"jobUrl\":" + q(job.getJobUrl().toString());
    });
    UwsJob job = holder[0];
    if (job == null) System.exit(1);
    job.addJobWatcher((j, info) -> {
      synchronized (phasesSeen) {
        String p = info.getPhase();
        if (phasesSeen.isEmpty() || !phasesSeen.get(phasesSeen.size() - 1).equals(p)) phasesSeen.add(p);
      }
    });

    step("readInfo: PENDING, version 1.1", () -> {
      UwsJobInfo info = job.readInfo();
      check("PENDING".equals(info.getPhase()), "phase " + info.getPhase());
      check("1.1".equals(info.getUwsVersion()), "version " + info.getUwsVersion());
      return "\"phase\":" + q(info.getPhase()) + ",\"version\":" + q(info.getUwsVersion());
    });

    step("postExecutionDuration(300)", () -> {
      job.postExecutionDuration(300);
      String d = job.readInfo().getExecutionDuration();
      check("300".equals(d), "executionDuration " + d);
      return "\"executionDuration\":" + q(d);
    });

    step("postDestruction(+1 day)", () -> {
      String when = java.time.Instant.now().plusSeconds(86400).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
      job.postDestruction(when);
      String d = job.readInfo().getDestruction();
      check(d != null && java.time.Instant.parse(d).equals(java.time.Instant.parse(when)), "destruction " + d + " wanted " + when);
      return "\"destruction\":" + q(d);
    });

    UwsJobInfo[] finished = new UwsJobInfo[1];
    step("start(); waitForFinish (blocking WAIT)", () -> {
      long t0 = System.nanoTime();
      job.start();
      UwsJobInfo info = job.waitForFinish(500);
      finished[0] = info;
      long ms = (System.nanoTime() - t0) / 1_000_000;
      check("COMPLETED".equals(info.getPhase()), "phase " + info.getPhase());
      String seen;
      synchronized (phasesSeen) {
        seen = String.join(",", phasesSeen);
      }
      return "\"phase\":" + q(info.getPhase()) + ",\"phasesSeen\":" + q(seen) + ",\"ms\":" + ms;
    });

    step("read the result VOTable with STIL", () -> {
      UwsJobInfo.Result[] results = finished[0].getResults();
      check(results.length == 1 && "result".equals(results[0].getId()), "results " + results.length);
      String href = results[0].getHref();
      check(href.startsWith(root + "/"), "result href not absolute: " + href);
      StarTable table = new StarTableFactory(false).makeStarTable(new URLDataSource(new URL(href)), "votable");
      check(table.getColumnCount() == 4, "columns " + table.getColumnCount());
      check("ra".equals(table.getColumnInfo(1).getName()), "column 2 is " + table.getColumnInfo(1).getName());
      long n = 0;
      long idSum = 0;
      StringBuilder first = new StringBuilder();
      try (RowSequence seq = table.getRowSequence()) {
        while (seq.next()) {
          Object[] row = seq.getRow();
          long id = ((Number) row[0]).longValue();
          double ra = ((Number) row[1]).doubleValue();
          double dec = ((Number) row[2]).doubleValue();
          check(id == n + 1, "row " + n + " has id " + id);
          check(ra >= 0 && ra < 360 && dec >= -90 && dec <= 90, "row " + id + " out of range");
          if (n < 3) first.append(n == 0 ? "" : ";").append(id).append(' ').append(row[1]).append(' ').append(row[2]).append(' ').append(row[3]);
          idSum += id;
          n++;
        }
      }
      check(n == rows, n + " rows, expected " + rows);
      return "\"rows\":" + n + ",\"first\":" + q(first.toString()) + ",\"href\":" + q(href);
    });

    step("postDelete", () -> {
      job.postDelete();
      try {
        job.readInfo();
        throw new AssertionError("job still readable after delete");
      } catch (java.io.IOException expected) {
        return "\"afterDelete\":" + q(expected.getMessage());
      }
    });

    System.exit(failed ? 1 : 0);
  }
}
