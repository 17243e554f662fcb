package dev.holdfast.chaos.harness;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The suite's report: one JSON line per scenario in {@code FILE.jsonl} and a Markdown table in {@code FILE}
 * (rewritten after every scenario, so a run cut short still leaves what it measured).
 */
public final class ChaosReport {
    private final Path markdown;
    private final Path jsonLines;
    private final List<ScenarioResult> results = new ArrayList<>();
    private final ObjectMapper json = new ObjectMapper()
            .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.PUBLIC_ONLY);
    private final String heading;

    public ChaosReport(Path markdown, String heading) throws IOException {
        this.markdown = markdown.toAbsolutePath();
        this.jsonLines = Path.of(this.markdown + ".jsonl");
        this.heading = heading;
        Files.createDirectories(this.markdown.getParent());
        Files.deleteIfExists(jsonLines);
    }

    public synchronized void add(ScenarioResult r) throws IOException {
        results.add(r);
        Files.writeString(jsonLines, json.writeValueAsString(r) + "\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        StringBuilder md = new StringBuilder("# Holdfast chaos report\n\n").append(heading).append("\n\n")
                .append(ScenarioResult.markdownHeader()).append('\n');
        for (ScenarioResult x : results) {
            md.append(x.markdownRow()).append('\n');
        }
        Files.writeString(markdown, md);
    }

    public Path markdown() {
        return markdown;
    }

    public synchronized boolean allPassed() {
        return results.stream().allMatch(ScenarioResult::passed);
    }
}
