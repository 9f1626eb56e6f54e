package io.intent.store.codec;

import java.util.regex.Pattern;

/**
 * App and host names: DNS-label-like, so a name can never contain {@code /} or {@code ..} and so never
 * escapes its key prefix or its directory.
 */
public final class Names {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    public static final int MAX = 63;

    private Names() {
    }

    public static boolean valid(String name) {
        return name != null && name.length() <= MAX && LABEL.matcher(name).matches();
    }

    /** Why {@code name} is not a valid name, or null when it is. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "must not be empty";
        }
        if (name.length() > MAX) {
            return "longer than " + MAX + " characters";
        }
        if (!LABEL.matcher(name).matches()) {
            return "'" + printable(name) + "' is not a DNS label (lowercase letters, digits and '-', "
                    + "starting and ending with a letter or digit)";
        }
        return null;
    }

    /** Returns {@code name} or throws with the reason; use at every edge that turns a name into a key or a path. */
    public static String require(String what, String name) {
        String p = problem(name);
        if (p != null) {
            throw new InvalidValueException(what + " name " + p);
        }
        return name;
    }

    static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
