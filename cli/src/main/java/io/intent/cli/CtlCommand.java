package io.intent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.ParentCommand;

/** A top-level {@code intentctl} command: picocli fills in {@link #root}, which holds the shared options. */
abstract class CtlCommand implements Callable<Integer> {
    @ParentCommand
    IntentCtl root;
}
