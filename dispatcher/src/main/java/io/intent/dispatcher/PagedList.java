package io.intent.dispatcher;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Json;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.etcd.Entry;
import io.intent.store.etcd.Snapshot;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists a large prefix (10,000 assignments are several MiB, over gRPC's 4 MiB message limit) in pages, all
 * read at the revision of the first page so the result is one consistent snapshot.
 */
final class PagedList {
    private PagedList() {
    }

    static <T> Snapshot<T> list(EtcdStore store, String prefix, Class<T> type, int pageSize) {
        ByteSequence end = ByteSequence.from(prefixEnd(prefix.getBytes(StandardCharsets.UTF_8)));
        List<Entry<T>> entries = new ArrayList<>();
        long revision = 0;
        byte[] from = prefix.getBytes(StandardCharsets.UTF_8);
        while (true) {
            GetOption.Builder opt = GetOption.builder().withRange(end).withLimit(pageSize);
            if (revision > 0) {
                opt.withRevision(revision);
            }
            ByteSequence key = ByteSequence.from(from);
            var resp = store.call("list " + prefix + " page", () -> store.client().getKVClient().get(key, opt.build()));
            if (revision == 0) {
                revision = resp.getHeader().getRevision();
            }
            for (KeyValue kv : resp.getKvs()) {
                entries.add(decode(kv, type));
            }
            if (!resp.isMore() || resp.getKvs().isEmpty()) {
                return new Snapshot<>(revision, entries);
            }
            byte[] last = resp.getKvs().get(resp.getKvs().size() - 1).getKey().getBytes();
            from = new byte[last.length + 1];
            System.arraycopy(last, 0, from, 0, last.length);
        }
    }

    private static <T> Entry<T> decode(KeyValue kv, Class<T> type) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        byte[] raw = kv.getValue().getBytes();
        try {
            T value = Json.read(raw, type);
            if (value == null) {
                throw new InvalidValueException("value is JSON null");
            }
            return new Entry<>(key, value, null, null, kv.getModRevision(), kv.getCreateRevision(), kv.getLease());
        } catch (InvalidValueException e) {
            String text = new String(raw, 0, Math.min(raw.length, 1024), StandardCharsets.UTF_8);
            return new Entry<>(key, null, e.getMessage(), text, kv.getModRevision(), kv.getCreateRevision(),
                    kv.getLease());
        }
    }

    /** The smallest key greater than every key starting with {@code prefix}. */
    private static byte[] prefixEnd(byte[] prefix) {
        byte[] end = prefix.clone();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return java.util.Arrays.copyOf(end, i + 1);
            }
        }
        return new byte[] {0};
    }
}
