package dev.holdfast.intake.auth;

import dev.holdfast.intake.config.IntakeConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** auth.agents, compiled: for each identity, the agent-id globs it may send as besides its own name. */
final class AgentRules {
    private final Map<String, List<Pattern>> byIdentity = new HashMap<>();

    AgentRules(List<IntakeConfig.AgentRule> rules) {
        for (IntakeConfig.AgentRule rule : rules) {
            List<Pattern> globs = byIdentity.computeIfAbsent(rule.identity(), k -> new ArrayList<>());
            rule.agentIds().forEach(g -> globs.add(AgentGlob.compile(g)));
        }
    }

    /** A caller known by these names (first = the one to name it by), with its rules and any extra globs. */
    Caller caller(List<String> names, String via, List<Pattern> extra) {
        List<Pattern> globs = new ArrayList<>(extra);
        for (String n : names) {
            globs.addAll(byIdentity.getOrDefault(n, List.of()));
        }
        return Caller.identified(names, via, globs);
    }
}
