//! `group-metadata-store`: a group's attributes and labels.

use super::{R, StoreView, err};
use crate::audit::label_name;
use crate::contract::iam::plugin::{group_metadata_store, types};

impl group_metadata_store::Host for StoreView<'_> {
    fn get_attributes(&mut self, group_id: String) -> R<Vec<types::Attribute>> {
        self.db()?.attributes().of_group(&group_id).map_err(err)
    }

    fn put_attribute(&mut self, group_id: String, attr: types::Attribute) -> R<()> {
        self.db()?
            .attributes()
            .put_on_group(&group_id, &attr)
            .map_err(err)?;
        self.audit
            .group("group attribute set", &group_id, attr.name);
        Ok(())
    }

    fn remove_attribute(&mut self, group_id: String, name: String) -> R<bool> {
        let removed = self
            .db()?
            .attributes()
            .remove_from_group(&group_id, &name)
            .map_err(err)?;
        if removed {
            self.audit.group("group attribute removed", &group_id, name);
        }
        Ok(removed)
    }

    fn get_labels(&mut self, group_id: String) -> R<Vec<types::Label>> {
        self.db()?.labels().of_group(&group_id).map_err(err)
    }

    fn put_label(&mut self, group_id: String, l: types::Label) -> R<()> {
        self.db()?
            .labels()
            .put_on_group(&group_id, &l)
            .map_err(err)?;
        let label = label_name(l.prefix.as_deref(), &l.name);
        self.audit.group("group label set", &group_id, label);
        Ok(())
    }

    fn remove_label(&mut self, group_id: String, prefix: Option<String>, name: String) -> R<bool> {
        let removed = self
            .db()?
            .labels()
            .remove_from_group(&group_id, prefix.as_deref(), &name)
            .map_err(err)?;
        if removed {
            let label = label_name(prefix.as_deref(), &name);
            self.audit.group("group label removed", &group_id, label);
        }
        Ok(removed)
    }
}
