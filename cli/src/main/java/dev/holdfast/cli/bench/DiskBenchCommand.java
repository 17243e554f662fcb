package dev.holdfast.cli.bench;

import dev.holdfast.wal.WalDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code holdfast bench disk}: the sequential write + fdatasync baseline of a directory's disk. */
@Command(name = "disk",
        mixinStandardHelpOptions = true,
        description = "Measures sequential write + fdatasync throughput of the disk under DIR (file deleted afterwards).")
public final class DiskBenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", required = true, description = "Directory on the disk to measure (use the WAL's).")
    Path dir;

    @Option(names = "--block-bytes", defaultValue = "1048576", description = "Bytes per write, each followed by fdatasync. Default: ${DEFAULT-VALUE}.")
    int blockBytes;

    @Option(names = "--total-bytes", defaultValue = "268435456", description = "Bytes written in total. Default: ${DEFAULT-VALUE}.")
    long totalBytes;

    @Option(names = "--report-json", paramLabel = "FILE", description = "Also write the result as JSON.")
    Path reportJson;

    @Override
    public Integer call() throws IOException {
        if (blockBytes < 1 || totalBytes < blockBytes) {
            throw new CommandLine.ParameterException(spec.commandLine(), "need 1 <= --block-bytes <= --total-bytes");
        }
        WalDirectory.checkWritable(dir); // the disk under a pseudo-filesystem is no baseline for anything
        DiskBaseline.Result result = new DiskBaseline(System::nanoTime).measure(dir, blockBytes, totalBytes);
        System.out.print(result.toText());
        if (reportJson != null) {
            result.writeJson(reportJson);
        }
        return 0;
    }
}
