package io.galore4j.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.galore4j.trainer.run.RunDirectory;
import org.junit.jupiter.api.Test;

/**
 * The options declared once in mixins keep each command's own help text: the mixin's text where
 * a command had it, the command's wording (options.properties) where it had its own.
 */
class SharedOptionsTest {

    /** The usage help of {@code command}, its whitespace runs made single spaces (picocli wraps and aligns). */
    private static String help(String command) {
        Cli.Result r = Cli.run(command, "--help");
        assertEquals(0, r.code(), r.err());
        return r.out().replaceAll("\\s+", " ");
    }

    @Test
    void eachCommandKeepsItsWordingOfTheSharedOptions() {
        String[][] expected = {
            {"train", "--config=FILE YAML file with model/data/train/optim settings"},
            {"train", "--set=KEY=VALUE override one setting, e.g. --set train.steps=100 (repeatable)"},
            {"train", "--out=DIR run directory (default: runs/<timestamp>-<method>)"},
            {"train", "--force " + RunDirectory.FORCE_HELP.substring(0, 40)},
            {"bench", "--config=FILE YAML file with model/data/train/optim settings"},
            {"bench", "--set=KEY=VALUE override one setting, as for train (repeatable)"},
            {"memory", "--set=KEY=VALUE override one setting, as for train (repeatable)"},
            {"finetune", "--config=FILE YAML file with data/train/qzo/optim settings"},
            {"finetune", "--set=KEY=VALUE override one setting, e.g. --set qzo.eps=1e-4 (repeatable)"},
            {"finetune", "--out=DIR run directory (default: runs/<timestamp>-finetune-<method>)"},
            {"finetune", "--force " + RunDirectory.FORCE_HELP.substring(0, 40)},
            {"sweep", "--config=FILE YAML file with the settings shared by every run"},
            {"sweep", "--set=KEY=VALUE override one shared setting (repeatable)"},
            {"sweep", "--no-memory-check start runs even when their estimated memory exceeds what is available"},
            {"export", "--force replace FILE and its config.json if they exist"},
            {"report", "--force replace --out FILE if it exists"},
            {"plot", "--force replace images of the same name in --out DIR"},
        };
        for (String[] e : expected) {
            String help = help(e[0]);
            assertTrue(help.contains(e[1]), e[0] + " --help shows '" + e[1] + "': " + help);
        }
    }
}
