package io.intent.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl token hash [TOKEN]}: what to put in the API's tokens file or etcd. */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Token helpers.",
        subcommands = TokenCommand.Hash.class)
final class TokenCommand {
    @ParentCommand
    IntentCtl root;

    /** Prints the sha256 the API stores for a token. */
    @Command(name = "hash", mixinStandardHelpOptions = true,
            description = {"Print the sha256 of a token, as the API's tokens file and etcd store it:",
                "  - {name: alice, role: admin, sha256: <this>}",
                "Reads the token from stdin when TOKEN is absent or -, keeping it out of the shell history."})
    static final class Hash implements Callable<Integer> {
        @ParentCommand
        TokenCommand parent;

        @Parameters(arity = "0..1", paramLabel = "TOKEN")
        String token;

        @Override
        public Integer call() throws IOException {
            String t = token == null || token.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    .strip() : token;
            if (t.isEmpty()) {
                throw new CtlException(1, "empty token");
            }
            parent.root.say(sha256(t));
            return 0;
        }
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
