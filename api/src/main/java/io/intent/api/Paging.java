package io.intent.api;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Kubernetes-style list paging: {@code ?limit=N} items per page and an opaque {@code continue} token naming the
 * snapshot revision, the section (a list may run through several, e.g. apps then hosts) and the last item sent.
 * Every page of one list is cut from the same snapshot, so each item appears exactly once.
 */
record Paging(long revision, String section, String after, int limit) {
    /** Default page of light items (assignments: about 0.5 KiB each). */
    static final int DEFAULT_LIMIT = 500;
    /**
     * Default page of status items: an app's status holds every instance with every agent's report, about 5 KiB
     * at 10 instances, so 100 of them keep a page near half a megabyte.
     */
    static final int STATUS_LIMIT = 100;
    static final int MAX_LIMIT = 5000;

    /** The paging a request asks for: the first page when it sends no {@code continue}. */
    static Paging of(Call c) {
        return of(c, DEFAULT_LIMIT);
    }

    /** Like {@link #of(Call)} with another default limit. */
    static Paging of(Call c, int defaultLimit) {
        int limit = defaultLimit;
        String l = c.query("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw ApiError.badRequest("limit must be a number from 1 to " + MAX_LIMIT + ", not '" + l + "'");
            }
        }
        String token = c.query("continue");
        if (token == null || token.isEmpty()) {
            return new Paging(0, null, null, limit);
        }
        try {
            String[] p = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\n", 3);
            long rev = Long.parseLong(p[0]);
            if (p.length != 3 || rev <= 0) {
                throw new IllegalArgumentException();
            }
            return new Paging(rev, p[1], p[2], limit);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("continue token '" + token + "' is not one this API issued; start the list "
                    + "again without it");
        }
    }

    boolean first() {
        return revision == 0;
    }

    /** The token for the page after {@code lastItem} of {@code lastSection}. */
    static String token(long revision, String lastSection, String lastItem) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((revision + "\n" + lastSection + "\n"
                + lastItem).getBytes(StandardCharsets.UTF_8));
    }
}
