package io.intent.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs intentctl in this JVM, as a shell would, capturing its exit code and what it prints. */
final class Ctl {
    private Ctl() {
    }

    /** One run's exit code, standard output and standard error. */
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        return run(new StringWriter(), args);
    }

    /** Runs with standard output going to {@code out}, which a test may read while the command still runs. */
    static Run run(StringWriter out, String... args) {
        StringWriter err = new StringWriter();
        var cl = IntentCtl.commandLine(args); // as main builds it: only the subcommands args name
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }
}
