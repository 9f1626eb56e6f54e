package io.intent.leader;

import io.intent.daemon.config.ConfigDefaults;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Session;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The leader process in fence-only mode, for the fencing tests only: its session never tells anyone that its
 * lease is lost, so a leader paused past its lease wakes up believing it still leads (a zombie whose clock lies)
 * and keeps acting until etcd refuses a fenced write. A campaign still sees a lost lease (it polls the session).
 */
@Command(name = "intent-leader-fence-only", mixinStandardHelpOptions = true,
        description = "Test only: a leader that relies on the fence alone.")
public final class FenceOnlyLeaderMain extends LeaderMain {
    public static void main(String[] args) {
        System.exit(ConfigDefaults.install(new CommandLine(new FenceOnlyLeaderMain()), args, System.getenv())
                .execute(args));
    }

    @Override
    Session openSession(EtcdStore store, Duration ttl) {
        return new DeafSession(store, ttl);
    }

    /** A session whose lease losses reach no one. */
    static final class DeafSession extends Session {
        DeafSession(EtcdStore store, Duration ttl) {
            super(store, ttl);
        }

        @Override
        public void onLoss(LossListener listener) {
            // the zombie never hears that its lease is gone: only a refused write ends its term
        }
    }
}
