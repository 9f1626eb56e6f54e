package io.intent.bench;

import java.util.Arrays;
import java.util.Locale;

/** Entry point of {@code ./intent bench NAME [ARGS]}; {@code list} names the benchmarks. */
public final class Bench {
    static final String[] KNOWN = {"etcd-limit", "dispatch", "failover", "prepare", "iptables", "setlive", "api",
        "converge", "fanout", "footprint", "partition", "cli", "logs"};

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        io.intent.daemon.Logging.init();
        if (args.length == 0 || args[0].equals("list") || args[0].equals("--help")) {
            System.out.println("usage: ./intent bench NAME [ARGS]\n\nbenchmarks:");
            for (String n : KNOWN) {
                Benchmark b = find(n);
                System.out.printf("  %-12s %s%n", n, b == null ? "(not built yet)" : b.describe());
            }
            return;
        }
        Benchmark b = find(args[0]);
        if (b == null) {
            System.err.println("bench: no benchmark '" + args[0] + "'; ./intent bench list shows them");
            System.exit(2);
        }
        Report report = new Report(args[0]);
        b.run(report, Arrays.copyOfRange(args, 1, args.length));
        System.exit(0);
    }

    static Benchmark find(String name) {
        if (!name.matches("[a-z0-9-]+")) {
            return null;
        }
        StringBuilder cls = new StringBuilder("io.intent.bench.");
        for (String part : name.split("-")) {
            cls.append(part.substring(0, 1).toUpperCase(Locale.ROOT)).append(part.substring(1));
        }
        cls.append("Bench");
        try {
            return (Benchmark) Class.forName(cls.toString()).getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create " + cls, e);
        }
    }
}
