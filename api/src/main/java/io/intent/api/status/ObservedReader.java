package io.intent.api.status;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the snapshot the status model needs straight from etcd: the six prefixes, in pages (a single range of
 * 10,000 instances' keys exceeds gRPC's 4 MiB message limit), every page at one revision. Blocking. This is the
 * {@code ?consistent=true} path; ordinary reads come from the API's watch-fed cache.
 */
public final class ObservedReader {
    /** Keys per range request: well under 4 MiB even for large status values. */
    static final int PAGE = 500;

    private final EtcdStore store;

    public ObservedReader(EtcdStore store) {
        this.store = store;
    }

    /** The latest snapshot. */
    public Observed read() {
        return read(0);
    }

    /**
     * The snapshot at {@code revision} (0 = latest). An older revision etcd has compacted fails with a
     * non-transient {@link io.intent.store.etcd.StoreException}.
     */
    public Observed read(long revision) {
        ObservedBuilder b = new ObservedBuilder(store.keys());
        long rev = revision;
        for (String prefix : b.prefixes()) {
            rev = readPrefix(prefix, rev, b);
        }
        return b.build(rev);
    }

    /** Reads every key under {@code prefix} at {@code revision} (0: latest) into {@code b}; the revision read at. */
    private long readPrefix(String prefix, long revision, ObservedBuilder b) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        ByteSequence end = ByteSequence.from(prefixEnd(p));
        ByteSequence from = ByteSequence.from(p);
        long rev = revision;
        while (true) {
            GetOption.Builder opt = GetOption.builder().withRange(end).withLimit(PAGE);
            if (rev > 0) {
                opt.withRevision(rev);
            }
            ByteSequence start = from;
            var resp = store.call("list " + prefix + " (page)", () -> store.client().getKVClient()
                    .get(start, opt.build()));
            if (rev <= 0) {
                rev = resp.getHeader().getRevision();
            }
            for (KeyValue kv : resp.getKvs()) {
                b.put(decode(kv));
            }
            if (!resp.isMore() || resp.getKvs().isEmpty()) {
                return rev;
            }
            byte[] last = resp.getKvs().get(resp.getKvs().size() - 1).getKey().getBytes();
            from = ByteSequence.from(Arrays.copyOf(last, last.length + 1));
        }
    }

    private static Entry<JsonNode> decode(KeyValue kv) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        byte[] raw = kv.getValue().getBytes();
        try {
            JsonNode v = Json.read(raw, JsonNode.class);
            if (v == null || v.isNull()) {
                throw new InvalidValueException("value is JSON null");
            }
            return new Entry<>(key, v, null, null, kv.getModRevision(), kv.getCreateRevision(), kv.getLease());
        } catch (InvalidValueException e) {
            String text = new String(raw, 0, Math.min(raw.length, 1024), StandardCharsets.UTF_8);
            return new Entry<>(key, null, e.getMessage(), text, kv.getModRevision(), kv.getCreateRevision(),
                    kv.getLease());
        }
    }

    private static byte[] prefixEnd(byte[] prefix) {
        byte[] end = prefix.clone();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return Arrays.copyOf(end, i + 1);
            }
        }
        return new byte[] {0};
    }
}
