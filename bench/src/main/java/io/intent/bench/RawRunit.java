package io.intent.bench;

import io.intent.setlive.Runsvdir;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The limits the converge benchmarks measure in the same run: the demo app run by hand under runit, with no
 * intent, no etcd and no agent. A raw switch is a symlink swap plus what {@code sv restart} sends runsv
 * ({@code tcu}) until the new version answers; a raw first start is fetch, sha256, untar, a service dir, a
 * {@code runsv} started at once (no runsvdir scan), until it answers.
 */
final class RawRunit implements AutoCloseable {
    private final Path dir;
    private final Path tar;
    private final String address;
    private final Path services;
    private final Map<String, Long> lastStart = new HashMap<>();

    RawRunit(Path dir, Path tar, String address) throws Exception {
        this.dir = dir;
        this.tar = tar;
        this.address = address;
        this.services = dir.resolve("services");
        Files.createDirectories(services);
        Runsvdir.ensure(services, dir.resolve("state"));
        for (String v : new String[] {"1.0", "2.0"}) {
            Path inst = Files.createDirectories(dir.resolve("inst").resolve(v));
            run("tar -xzf " + tar + " -C " + inst);
            Files.writeString(inst.resolve("VERSION"), v);
        }
    }

    /** A switchable service {@code name} on {@code port}, answering 1.0, started and answering. */
    void service(String name, int port) throws Exception {
        Path current = dir.resolve("current-" + name);
        swap(current, dir.resolve("inst/1.0"));
        Path tmp = services.resolve(".new-" + name);
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve("run"), "#!/bin/sh\ncd " + current + " || exit 111\n"
                + "exec env INTENT_HOST_ADDR=" + address + " INTENT_PORT_HTTP=" + port + " INTENT_APP=" + name
                + " DEMO_WWW=" + dir.resolve("www-" + name) + " INTENT_VERSION=\"$(cat VERSION)\" " + current
                + "/bin/server >/dev/null 2>&1\n");
        Files.setPosixFilePermissions(tmp.resolve("run"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(tmp, services.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        awaitAnswer(port, "1.0", 60_000);
        lastStart.put(name, System.nanoTime());
    }

    /** One raw switch of {@code name} to {@code version}, in nanoseconds (runsv's 1 s restart pause waited out first). */
    long switchTo(String name, int port, String version) throws Exception {
        Long last = lastStart.get(name);
        if (last != null) {
            long wait = TimeUnit.MILLISECONDS.toNanos(1100) - (System.nanoTime() - last);
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }
        long t0 = System.nanoTime();
        swap(dir.resolve("current-" + name), dir.resolve("inst").resolve(version));
        Files.write(services.resolve(name).resolve("supervise/control"), "tcu".getBytes(StandardCharsets.US_ASCII));
        awaitAnswer(port, version, 30_000);
        long t1 = System.nanoTime();
        lastStart.put(name, t1);
        return t1 - t0;
    }

    /**
     * By hand, {@code instances} first starts in parallel (as on that many hosts): fetch {@code url}, sha256, untar,
     * a service dir, {@code runsv} started at once, until each answers. Nanoseconds.
     */
    long firstStart(String name, String url, int firstPort, int instances) throws Exception {
        StringBuilder script = new StringBuilder("set -e\n");
        for (int i = 0; i < instances; i++) {
            String d = dir.resolve("first-" + name + "-" + i).toString();
            int port = firstPort + i;
            script.append("(mkdir -p ").append(d).append("/inst ").append(d).append("/svc && curl -sf -o ")
                    .append(d).append("/a.tgz ").append(url).append(" && sha256sum ").append(d)
                    .append("/a.tgz >/dev/null && tar -xzf ").append(d).append("/a.tgz -C ").append(d)
                    .append("/inst && printf '#!/bin/sh\\nexec env INTENT_HOST_ADDR=").append(address)
                    .append(" INTENT_PORT_HTTP=").append(port).append(" INTENT_VERSION=1.0 DEMO_WWW=").append(d)
                    .append("/www ").append(d).append("/inst/bin/server >/dev/null 2>&1\\n' > ").append(d)
                    .append("/svc/run && chmod +x ").append(d).append("/svc/run && (setsid runsv ").append(d)
                    .append("/svc </dev/null >/dev/null 2>&1 &) && until curl -sf -o /dev/null http://")
                    .append(address).append(':').append(port).append("/healthz; do sleep 0.002; done) &\n");
        }
        script.append("wait\n");
        long t0 = System.nanoTime();
        run(script.toString());
        long ns = System.nanoTime() - t0;
        for (int i = 0; i < instances; i++) {
            Path svc = dir.resolve("first-" + name + "-" + i).resolve("svc");
            // runsv stops its app on 'x' only once the app is down: down, then exit
            Files.write(svc.resolve("supervise/control"), "dx".getBytes(StandardCharsets.US_ASCII));
        }
        return ns;
    }

    private void awaitAnswer(int port, String version, long timeoutMs) throws InterruptedException {
        SetliveBench.awaitAnswer(address, port, version, timeoutMs);
    }

    private static void swap(Path link, Path target) throws Exception {
        Path tmp = link.resolveSibling("." + link.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target);
        Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void run(String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("raw runit step failed: " + script);
        }
    }

    @Override
    public void close() throws Exception {
        Runsvdir.shutdown(services, dir.resolve("state"), Duration.ofSeconds(5));
    }
}
