package io.intent.daemon;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The registry every intent process serves on {@code /metrics}: JVM (memory, GC, threads, classes) and process
 * figures, including the Prometheus client's standard {@code process_cpu_seconds_total},
 * {@code process_resident_memory_bytes} and {@code process_open_fds}, so the usual dashboards work unchanged.
 */
public final class ProcessMetrics {
    /** Buckets of one reconcile: bookkeeping in milliseconds, a download or an app start in seconds to minutes. */
    public static final Duration[] RECONCILE_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
            5, 10, 30, 60, 120, 300);
    /** Buckets of converge latency (intent revision seen to status READY): seconds to half an hour. */
    public static final Duration[] CONVERGE_BUCKETS = seconds(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
            600, 1800);
    /** Buckets of one dispatch round (plan and write): milliseconds for small fleets, seconds for big ones. */
    public static final Duration[] DISPATCH_BUCKETS = seconds(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1, 2.5, 5, 10);

    private ProcessMetrics() {
    }

    /** A Prometheus registry with the JVM and process meters bound. */
    @SuppressWarnings("resource") // the GC binder lives as long as the process
    public static PrometheusMeterRegistry registry() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(r);
        new JvmGcMetrics().bindTo(r);
        new JvmThreadMetrics().bindTo(r);
        new ClassLoaderMetrics().bindTo(r);
        new JvmInfoMetrics().bindTo(r);
        new ProcessorMetrics().bindTo(r);
        new UptimeMetrics().bindTo(r);
        new FileDescriptorMetrics().bindTo(r);
        bindStandardProcessMeters(r);
        return r;
    }

    private static void bindStandardProcessMeters(MeterRegistry r) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
                    .baseUnit("seconds").description("user and system CPU time of this process")
                    .register(r);
        }
        if (ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            Gauge.builder("process.open.fds", unix, u -> u.getOpenFileDescriptorCount())
                    .description("open file descriptors").register(r);
            Gauge.builder("process.max.fds", unix, u -> u.getMaxFileDescriptorCount())
                    .description("most file descriptors this process may open").register(r);
        }
        Path statm = Path.of("/proc/self/statm");
        if (Files.isReadable(statm)) {
            Gauge.builder("process.resident.memory", statm, ProcessMetrics::residentBytes).baseUnit("bytes")
                    .description("resident set size").register(r);
        }
    }

    private static double residentBytes(Path statm) {
        try {
            String[] f = Files.readString(statm).trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096.0;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static Duration[] seconds(double... s) {
        Duration[] out = new Duration[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = Duration.ofNanos((long) (s[i] * 1e9));
        }
        return out;
    }
}
