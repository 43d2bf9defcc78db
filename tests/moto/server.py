"""Starts moto's server (the CloudFormation emulator the apply tests deploy to).

Usage: python tests/moto/server.py PORT

One behaviour is patched, and only this one: moto 5.x does not refresh a stack's Outputs when
a change set is executed (moto/cloudformation/models.py, ChangeSet.apply updates the resources
only), so a stack that proctor creates through a change set would report no Outputs, unlike
CloudFormation. The patch gives the stack the change set's template and recomputes its
outputs after the resources, as moto's own FakeStack.update does. Everything else is moto as released.
"""

import sys

from moto.cloudformation import models
from moto.server import main

_apply = models.ChangeSet.apply


def _apply_and_refresh_outputs(self):
    _apply(self)
    self.stack.template_dict = self.template_dict
    self.stack.output_map = self.stack._create_output_map()


models.ChangeSet.apply = _apply_and_refresh_outputs

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
