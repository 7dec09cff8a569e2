package io.galore4j.experiments.cli;

import io.galore4j.trainer.config.ConfigTree;
import io.galore4j.trainer.plan.ByteSize;
import io.galore4j.trainer.plan.MemoryPlan;
import io.galore4j.trainer.plan.PlanEntry;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * {@code train --budget SIZE} ({@code train.budget}): the settings the user left open are taken from
 * the first configuration of {@code galore plan} for that budget (docs/design.md §4); the run's
 * config.yaml records them with the budget.
 */
final class BudgetChoice {

    @Option(names = "--budget", paramLabel = "SIZE",
            description = "memory per process, e.g. 16GiB: the settings not given by --config or --set are taken from"
                    + " the first configuration of `galore plan` for this budget (sets train.budget)")
    String budget;

    /** {@code tree} with --budget applied: train.budget set, when given. */
    ConfigTree over(ConfigTree tree) {
        return budget == null ? tree : tree.set("train.budget=" + budget);
    }

    /**
     * {@code tree} with the plan's first configuration for its train.budget applied to the keys
     * not in {@code fixed}, announced on {@code out}; {@code tree} itself when it has no budget.
     *
     * @throws IllegalArgumentException when the budget is not a size, or nothing fits it (naming the smallest estimate)
     */
    static ConfigTree choose(ConfigTree tree, Set<String> fixed, PrintStream out) throws IOException {
        Object value = tree.get("train.budget");
        if (value == null) {
            return tree;
        }
        String text = value.toString();
        long bytes = PlanCommand.parseBudget(text, "train.budget");
        PlanEntry first = MemoryPlan.search(tree, bytes, null, List.of(), fixed).first();
        ConfigTree chosen = tree;
        for (String s : first.sets()) {
            chosen = chosen.set(s);
        }
        out.println("galore train: budget " + ByteSize.format(bytes) + ": chose " + first.describe() + ", estimated "
                + ByteSize.format(first.estimate().totalBytes()) + " (galore plan's first configuration): "
                + first.setLine());
        return chosen;
    }
}
