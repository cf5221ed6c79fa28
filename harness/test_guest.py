"""The guest's QEMU command: KVM or TCG, the script that boots a failed
guest again, and the results shown as the console prints them."""
import io
import subprocess
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

import kt_guest
import kt_job
import kt_targets


class Accel(unittest.TestCase):
    def setUp(self):
        kt_guest.ACCEL[0] = "auto"

    def accel(self, name, machine="x86_64", kvm=True, flags=("pae",)):
        with mock.patch("platform.machine", return_value=machine), \
                mock.patch.object(kt_guest, "kvm_usable", return_value=kvm), \
                mock.patch.object(kt_guest, "host_cpu_flags",
                                  return_value=set(flags)):
            return kt_guest.accel(kt_targets.load(name))

    def test_kvm_for_the_hosts_architecture(self):
        self.assertEqual(self.accel("x86_64"), "kvm")
        self.assertEqual(self.accel("i386-pae"), "kvm")

    def test_tcg_without_dev_kvm_or_for_another_architecture(self):
        self.assertEqual(self.accel("x86_64", kvm=False), "tcg")
        self.assertEqual(self.accel("arm64"), "tcg")
        self.assertEqual(self.accel("ppc64le-radix"), "tcg")

    def test_tcg_where_the_host_cpu_lacks_a_feature_the_target_adds(self):
        self.assertEqual(self.accel("x86_64-la57"), "tcg")
        self.assertEqual(self.accel("x86_64-la57", flags={"la57"}), "kvm")

    def test_asked_for(self):
        kt_guest.ACCEL[0] = "tcg"
        self.assertEqual(self.accel("x86_64"), "tcg")
        kt_guest.ACCEL[0] = "kvm"
        with self.assertRaises(kt_guest.Fail):
            self.accel("arm64")
        kt_guest.ACCEL[0] = "auto"

    def test_in_the_command(self):
        with mock.patch.object(kt_guest, "accel", return_value="kvm"):
            opts = kt_guest.qemu_options(kt_targets.load("x86_64"))
        self.assertEqual(opts[opts.index("-accel") + 1], "kvm")
        opts = kt_guest.qemu_options(kt_targets.load("x86_64"), "tcg")
        self.assertEqual(opts[opts.index("-accel") + 1], "tcg")

    def test_tcg_options_only_under_tcg(self):
        """x86_64-la57 boots under -icount with TCG; KVM refuses it."""
        t = kt_targets.load("x86_64-la57")
        self.assertIn("-icount", kt_guest.qemu_options(t, "tcg"))
        self.assertNotIn("-icount", kt_guest.qemu_options(t, "kvm"))
        self.assertNotIn("-icount", kt_guest.qemu_options(
            kt_targets.load("x86_64-debug"), "tcg"))


class Without(unittest.TestCase):
    def test_the_option_and_its_value_go(self):
        self.assertEqual(kt_guest.without(["-a", "1", "-b", "2"], "-a"),
                         ["-b", "2"])
        self.assertEqual(kt_guest.without(["-b", "2"], "-a"), ["-b", "2"])


class Reproduce(unittest.TestCase):
    def test_the_script_boots_the_same_guest(self):
        t = kt_targets.load("x86_64")
        with tempfile.TemporaryDirectory() as d, \
                mock.patch.object(kt_guest, "accel", return_value="tcg"), \
                mock.patch.object(kt_job, "accel", return_value="tcg"):
            f = kt_job.reproducer(Path(d), t, Path(d) / "bzImage",
                                  Path(d) / "initramfs.cpio")
            text = f.read_text()
            self.assertEqual(subprocess.run(["sh", "-n", str(f)]).returncode,
                             0)
            rc = subprocess.run([str(f), "--bogus"], capture_output=True)
        self.assertEqual(rc.returncode, 2)
        plain = " ".join(kt_guest.qemu_command(t, "bzImage",
                                               "initramfs.cpio", "tcg")[:-2])
        self.assertIn(f"exec {plain} -append \"$append\"", text)
        self.assertIn("-s -S", text)
        self.assertIn("rdinit=/bin/busybox -- sh", text)
        self.assertIn("mon:stdio", text)
        # (the shell's QEMU has no monitor option, and still no display)
        shell = text.split("--shell)")[1].split(";;")[0]
        self.assertIn("-display none", shell)
        self.assertNotIn("-monitor", shell)
        self.assertIn(kt_guest.kernel_cmdline(t), text)


class Live(unittest.TestCase):
    def shown(self, mode, lines):
        kt_guest.LIVE[0] = mode
        out = io.StringIO()
        with redirect_stdout(out):
            for l in lines:
                kt_guest.live("x86_64", l)
        kt_guest.LIVE[0] = "fail"
        return out.getvalue().splitlines()

    LINES = ["[    0.39]     ok 3 p4d_alloc_track_folded",
             "[    0.39]     not ok 4 pud_alloc_track_new",
             "[    1.00] Summary: fix_size_alloc_test passed: 1 failed: 0 "
             "repeat: 1 loops: 1000 avg: 10 usec",
             "[    1.00] Summary: vm_map_ram_test passed: 0 failed: 1 "
             "repeat: 1 loops: 1000 avg: 10 usec",
             "[    0.00] Linux version 6.12",
             "[    1.00] Summary: align_shift_alloc_test passed: 0 failed: "
             "1 repeat: 1 loops: 1000 avg: 10 usec"]

    def test_every_result_in_a_run(self):
        shown = self.shown("all", self.LINES)
        self.assertEqual(len(shown), 5)
        self.assertTrue(shown[-1].endswith("(fails by design)"))

    def test_only_failures_in_a_check(self):
        self.assertEqual(self.shown("fail", self.LINES), [
            "  x86_64: not ok 4 pud_alloc_track_new",
            "  x86_64: Summary: vm_map_ram_test passed: 0 failed: 1 "
            "repeat: 1 loops: 1000 avg: 10 usec"])



class Layout(unittest.TestCase):
    """Paths a tree changes are found, not assumed."""

    def test_test_vmalloc_sh_in_mm_or_vm(self):
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            with self.assertRaisesRegex(kt_guest.Fail, "no tools/testing"):
                kt_guest.vmalloc_script(d)
            for sub in ("vm", "mm"):     # 6.1's, then 6.3's and later
                f = d / "tools/testing/selftests" / sub / "test_vmalloc.sh"
                f.parent.mkdir(parents=True)
                f.write_text("#!/bin/bash\n")
                self.assertEqual(kt_guest.vmalloc_script(d), f)


class Nolibc(unittest.TestCase):
    """The guest's nolibc: the tree's, or where it lacks the architecture
    (6.1 has no powerpc), Debian's 6.12 tarball's."""

    def test_the_trees_own_where_it_knows_the_arch(self):
        with tempfile.TemporaryDirectory() as d:
            own = Path(d) / "tools/include/nolibc"
            own.mkdir(parents=True)
            (own / "arch-aarch64.h").write_text("")
            with mock.patch.object(kt_guest, "work", lambda: Path(d)), \
                    mock.patch.object(kt_guest, "BUILD", Path(d) / "b"), \
                    mock.patch.object(kt_guest, "NOLIBC_FALLBACK",
                                      "linux-source-0.0-none"):
                self.assertEqual(kt_guest.nolibc_dir(
                    kt_targets.load("arm64")), own)
                # powerpc: not in this tree, and no tarball to take it from
                with self.assertRaisesRegex(
                        kt_guest.Fail, "no powerpc support .* install "
                        "Debian package linux-source-0.0-none"):
                    kt_guest.nolibc_dir(kt_targets.load("ppc64le-radix"))


if __name__ == "__main__":
    unittest.main()


class Init(unittest.TestCase):
    def test_the_last_step_before_the_script_names_it(self):
        # a guest killed in test_vmalloc.sh is named by the last KT: line
        # (kt_results.boot_result): the params line must be that one
        init = (kt_guest.TOP / "guest" / "init").read_text().splitlines()
        run = next(i for i, l in enumerate(init)
                   if "./test_vmalloc.sh" in l)
        steps = [l for l in init[:run] if 'echo "KT: ' in l]
        self.assertIn('echo "KT: test_vmalloc.sh $params"', steps[-1])
