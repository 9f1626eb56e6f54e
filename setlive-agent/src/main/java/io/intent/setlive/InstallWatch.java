package io.intent.setlive;

import io.intent.agent.InstallLayout;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes an app waiting for its install the moment the preparer renames one into {@code installs/<app>/} (inotify
 * through the JDK's {@link WatchService}), so a first deploy does not wait for the kit's 2 s look-again. setlive
 * still reads only the disk: the event just says "look again now".
 */
final class InstallWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InstallWatch.class);

    private final InstallLayout layout;
    private final Set<String> waiting = ConcurrentHashMap.newKeySet();
    private final Map<WatchKey, String> apps = new ConcurrentHashMap<>();
    private volatile Consumer<String> wake = app -> { };
    private WatchService service;
    private WatchKey rootKey;
    private boolean closed;

    InstallWatch(InstallLayout layout) {
        this.layout = layout;
    }

    void onInstall(Consumer<String> wake) {
        this.wake = wake;
    }

    /**
     * Watches for {@code app}'s installs until one appears; the caller looks at the disk again after this returns
     * (an install that landed meanwhile is seen then). Best effort: without inotify the kit's retry still comes.
     */
    synchronized void await(String app) {
        if (closed) {
            return;
        }
        waiting.add(app);
        try {
            if (service == null) {
                service = FileSystems.getDefault().newWatchService();
                Thread t = new Thread(this::run, "setlive-install-watch");
                t.setDaemon(true);
                t.start();
            }
            Path root = layout.appInstalls(app).getParent();
            if (rootKey == null && Files.isDirectory(root)) {
                rootKey = root.register(service, StandardWatchEventKinds.ENTRY_CREATE);
            }
            Path dir = layout.appInstalls(app);
            if (Files.isDirectory(dir) && !apps.containsValue(app)) {
                apps.put(dir.register(service, StandardWatchEventKinds.ENTRY_CREATE), app);
            }
        } catch (IOException e) {
            log.debug("cannot watch the installs of {}: {}", app, e.toString());
        }
    }

    private void run() {
        while (true) {
            WatchKey key;
            try {
                key = service.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            for (WatchEvent<?> ev : key.pollEvents()) {
                if (!(ev.context() instanceof Path name) || name.toString().startsWith(".")) {
                    continue; // the preparer's temp dirs: the install is not there yet
                }
                String app = key == rootKey ? name.toString() : apps.get(key);
                if (app != null && waiting.remove(app)) {
                    if (key == rootKey) {
                        // the app's dir is new: watch it for the version the preparer renames in next (the wake
                        // below looks once, in case it is in already)
                        await(app);
                    }
                    wake.accept(app);
                }
            }
            if (!key.reset() && key != rootKey) {
                apps.remove(key);
            }
        }
    }

    /** The app no longer waits (installed, or gone). */
    void forget(String app) {
        waiting.remove(app);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
