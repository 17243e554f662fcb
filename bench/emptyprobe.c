/* Loads bench/emptyprobe.bpf.o, attaches its programs, prints "attached" and waits to be killed. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 2) {
		fprintf(stderr, "usage: emptyprobe OBJECT.bpf.o\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "emptyprobe: loading %s failed\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "emptyprobe: attaching %s failed\n", bpf_program__name(prog));
			return 1;
		}
	}
	printf("attached\n");
	fflush(stdout);
	pause();
	return 0;
}
