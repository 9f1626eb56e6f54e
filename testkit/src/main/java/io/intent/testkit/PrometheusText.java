package io.intent.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads histograms out of a Prometheus text scrape, as a test asserting on {@code /metrics} needs them. */
public final class PrometheusText {
    private PrometheusText() {
    }

    /** The {@code le} labels Prometheus shows for {@code buckets}, then +Inf, in order. */
    public static List<String> les(Duration[] buckets) {
        List<String> l = new ArrayList<>(Arrays.stream(buckets).map(d -> Double.toString(d.toNanos() / 1e9)).toList());
        l.add("+Inf");
        return l;
    }

    /** The {@code le} labels of a histogram's first series, in scrape order. */
    public static List<String> bucketsOf(String scrape, String name) {
        List<String> les = new ArrayList<>();
        Matcher m = Pattern.compile("^" + name + "_bucket\\{(.*)le=\"([^\"]+)\".*$", Pattern.MULTILINE).matcher(scrape);
        String firstSeries = null;
        while (m.find()) {
            if (firstSeries == null) {
                firstSeries = m.group(1);
            }
            if (m.group(1).equals(firstSeries)) {
                les.add(m.group(2));
            }
        }
        return les;
    }

    /** The sum over every series of a histogram's {@code _count}. */
    public static double count(String scrape, String name) {
        return total(scrape, name + "_count");
    }

    /** The sum over every series of a histogram's {@code _sum} (seconds, for a timer). */
    public static double sum(String scrape, String name) {
        return total(scrape, name + "_sum");
    }

    /** The sum over every series of the cumulative count at bucket {@code le}. */
    public static double cumulative(String scrape, String name, String le) {
        double sum = 0;
        Matcher m = Pattern.compile("^" + name + "_bucket\\{.*le=\"" + Pattern.quote(le) + "\".*\\} (\\S+)$",
                Pattern.MULTILINE).matcher(scrape);
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    private static double total(String scrape, String series) {
        double sum = 0;
        Matcher m = Pattern.compile("^" + series + "(\\{[^}]*\\})? (\\S+)$", Pattern.MULTILINE).matcher(scrape);
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum;
    }
}
