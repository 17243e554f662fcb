package dev.holdfast.chaos;

import dev.holdfast.chaos.scenarios.Bitrot;
import dev.holdfast.chaos.scenarios.BrokerLoss;
import dev.holdfast.chaos.scenarios.DiskFull;
import dev.holdfast.chaos.scenarios.DnsLoss;
import dev.holdfast.chaos.scenarios.FrozenIntake;
import dev.holdfast.chaos.scenarios.IntakeKills;
import dev.holdfast.chaos.scenarios.KafkaOutage;
import dev.holdfast.chaos.scenarios.NodeLoss;
import dev.holdfast.chaos.scenarios.Partitions;
import dev.holdfast.chaos.scenarios.PoisonRecord;
import dev.holdfast.chaos.scenarios.ShipperKill;
import dev.holdfast.chaos.scenarios.TornTail;

import java.util.List;

/** Every scenario, in the order the suite runs them (the numbering of docs/CHAOS.md). */
public final class Scenarios {
    private Scenarios() {
    }

    public static List<Scenario> all() {
        return List.of(new IntakeKills(), new KafkaOutage(), new Partitions(), new DiskFull(), new FrozenIntake(),
                new DnsLoss(), new TornTail(), new ShipperKill(), new Bitrot(), new BrokerLoss(), new NodeLoss(),
                new PoisonRecord());
    }

    public static Scenario named(String name) {
        return all().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no scenario '" + name + "'; one of " + all().stream()
                        .map(Scenario::name).toList()));
    }
}
