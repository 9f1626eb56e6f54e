package io.intent.store.codec;

/** IPv4 addresses and CIDRs, parsed without DNS or I/O. */
public final class Cidr {
    private Cidr() {
    }

    public static boolean validAddress(String s) {
        if (s == null) {
            return false;
        }
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                return false;
            }
            if (Integer.parseInt(p) > 255 || (p.length() > 1 && p.startsWith("0"))) {
                return false;
            }
        }
        return true;
    }

    /** {@code a.b.c.d} or {@code a.b.c.d/n} with n in 0..32. */
    public static boolean valid(String s) {
        if (s == null) {
            return false;
        }
        int slash = s.indexOf('/');
        if (slash < 0) {
            return validAddress(s);
        }
        String bits = s.substring(slash + 1);
        if (bits.isEmpty() || bits.length() > 2 || !bits.chars().allMatch(Character::isDigit)) {
            return false;
        }
        return validAddress(s.substring(0, slash)) && Integer.parseInt(bits) <= 32;
    }
}
