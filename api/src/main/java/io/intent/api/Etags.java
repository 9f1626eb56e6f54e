package io.intent.api;

/** ETags are the key's etcd mod revision, quoted; {@code If-Match} takes one, or {@code *} for "must exist". */
final class Etags {
    /** {@code If-Match: *}: any existing version. */
    static final long ANY = -2;
    /** No precondition. */
    static final long NONE = -1;

    private Etags() {
    }

    static String format(long revision) {
        return "\"" + revision + "\"";
    }

    /** The revision an {@code If-Match} header asks for; {@link #NONE} when absent. */
    static long parseIfMatch(String header) {
        if (header == null || header.isBlank()) {
            return NONE;
        }
        String h = header.strip();
        if (h.equals("*")) {
            return ANY;
        }
        if (h.startsWith("W/")) {
            h = h.substring(2);
        }
        if (h.length() >= 2 && h.startsWith("\"") && h.endsWith("\"")) {
            h = h.substring(1, h.length() - 1);
        }
        try {
            long rev = Long.parseLong(h);
            if (rev < 0) {
                throw new NumberFormatException();
            }
            return rev;
        } catch (NumberFormatException e) {
            throw new ApiError(400, "bad_request", "If-Match must be an ETag from this API (a quoted revision) or *");
        }
    }
}
