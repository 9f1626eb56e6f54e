package io.intent.api;

import java.util.Locale;

/** What a token may do: viewers read, operators also write intent (apps, hosts), admins also manage tokens. */
public enum Role {
    VIEWER, OPERATOR, ADMIN;

    public boolean allows(Role needed) {
        return ordinal() >= needed.ordinal();
    }

    public static Role parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("role '" + s + "' is not one of admin, operator, viewer");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
