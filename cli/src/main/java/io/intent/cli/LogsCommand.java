package io.intent.cli;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code intentctl logs APP [--host H] [--tail N] [-f]}: an app's output from the hosts that run it. */
@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Print an app's output (stdout and stderr, each line stamped with its UTC time) from the hosts "
            + "that run it, through the API; with several hosts each line starts with '<host> | '.",
            "-f keeps following until Ctrl-C, or until the instance leaves its host."})
final class LogsCommand extends CtlCommand {
    @Mixin
    AppTarget target;

    @Option(names = {"-n", "--tail"}, paramLabel = "N", defaultValue = "100",
            description = "start with the last N lines of each instance. Default: ${DEFAULT-VALUE}")
    int tail;

    @Option(names = {"-f", "--follow"}, description = "keep printing what the app writes")
    boolean follow;

    @Override
    public Integer call() {
        StringBuilder path = new StringBuilder("/v1/apps/").append(ApiClient.enc(target.app)).append("/logs?tail=")
                .append(tail).append("&follow=").append(follow);
        if (target.host != null) {
            path.append("&host=").append(ApiClient.enc(target.host));
        }
        root.client().stream(path.toString(), out());
        return 0;
    }

    /** The command's output writer as a byte stream, decoding UTF-8 across chunk boundaries. */
    private OutputStream out() {
        PrintWriter w = root.out();
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE);
        return new OutputStream() {
            private final java.nio.ByteBuffer pending = java.nio.ByteBuffer.allocate(64 * 1024 + 8);
            private final java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(64 * 1024 + 8);

            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                while (len > 0) {
                    int n = Math.min(len, pending.remaining());
                    pending.put(b, off, n);
                    off += n;
                    len -= n;
                    pending.flip();
                    decoder.decode(pending, chars, false);
                    pending.compact();
                    chars.flip();
                    w.append(chars);
                    chars.clear();
                }
            }

            @Override
            public void flush() {
                w.flush();
            }
        };
    }
}
