package dev.holdfast.config;

import java.util.List;

/** Every problem found in a configuration, one per line in the message, each naming its field. */
public final class InvalidConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    public InvalidConfigException(List<String> problems) {
        super(String.join("\n", problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("an InvalidConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** The individual problems, in the order they were found. */
    public List<String> problems() {
        return problems;
    }
}
